import CTorch

/// How a 4-D tensor's elements are laid out in memory; the logical shape stays [N, C, H, W].
public enum MemoryFormat: Int32, Sendable {
    /// NCHW strides (PyTorch's default).
    case contiguous = 0
    /// NHWC strides: the layout oneDNN convolutions run fastest in on CPU.
    case channelsLast = 1
}

extension Tensor {
    /// This tensor in `format` (itself when it already is).
    public func contiguous(_ format: MemoryFormat) -> Tensor {
        Tensor(checking: ct_contiguous_format(handle, format.rawValue)).traced(.identity, [self], view: isContiguous(format))
    }

    /// Whether the strides are those of `format`.
    public func isContiguous(_ format: MemoryFormat) -> Bool { ct_is_contiguous_format(handle, format.rawValue) }
}
