import CTorch
import Foundation

/// A weight's copy in autocast's dtype and the version of the weight it was made from.
struct AutocastCopy {
    let dtype: DType
    let version: Int64
    let tensor: Tensor
}

extension Tensor {
    /// Guards every tensor's `autocastCopy` (forwards may run on several threads at once).
    static let autocastCopyLock = NSLock()

    /// The tensor as a weight or bias operand of a product that autocast runs in a lower precision
    /// (linear, convolution): while autocast is on for its device, no gradient is to reach it and
    /// nothing records, a float32 tensor gives its copy in autocast's dtype, made on first use and
    /// kept with the tensor until its data changes (libtorch's version counter sees loads and
    /// optimizer steps). Otherwise the tensor itself.
    ///
    /// Autocast would make the same copy (the same rounding) on every forward pass and drop it
    /// when the pass ends; an inference forward then casts no weight. The values of the product
    /// are the same either way. The copy lives as long as the tensor: half its bytes more (for
    /// bfloat16 and float16) for as long as the model is loaded.
    func autocastOperand() -> Tensor {
        let type = ct_device_type(handle)
        guard ct_autocast_enabled(type), dtype == .float32, !OperationTrace.isRecording,
            !(requiresGrad && isGradEnabled),
            let target = DType(rawValue: ct_autocast_dtype(type)), target != .float32
        else { return self }
        let current = version
        Tensor.autocastCopyLock.lock()
        defer { Tensor.autocastCopyLock.unlock() }
        if let copy = autocastCopy, copy.dtype == target, copy.version == current { return copy.tensor }
        let made = withNoGrad { to(target) }
        autocastCopy = AutocastCopy(dtype: target, version: current, tensor: made)
        return made
    }
}
