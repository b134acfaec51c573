import CTorch

/// A Swift number usable as a scalar operand of tensor operations.
/// Integers keep integer tensors integral; floating values follow PyTorch's
/// "tensor op python float" promotion.
public protocol TensorScalar: Sendable {
    var ctScalar: ct_scalar { get }
}

extension Int: TensorScalar {
    public var ctScalar: ct_scalar { ct_scalar(d: Double(self), i: Int64(self), is_int: 1) }
}
extension Int64: TensorScalar {
    public var ctScalar: ct_scalar { ct_scalar(d: Double(self), i: self, is_int: 1) }
}
extension Int32: TensorScalar {
    public var ctScalar: ct_scalar { ct_scalar(d: Double(self), i: Int64(self), is_int: 1) }
}
extension Double: TensorScalar {
    public var ctScalar: ct_scalar { ct_scalar(d: self, i: 0, is_int: 0) }
}
extension Float: TensorScalar {
    public var ctScalar: ct_scalar { ct_scalar(d: Double(self), i: 0, is_int: 0) }
}
extension Bool: TensorScalar {
    public var ctScalar: ct_scalar { ct_scalar(d: self ? 1 : 0, i: self ? 1 : 0, is_int: 1) }
}
