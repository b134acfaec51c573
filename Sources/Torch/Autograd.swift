import CTorch

extension Tensor {
    /// Whether autograd records operations on this tensor. Setting it works on leaves only.
    public var requiresGrad: Bool {
        get { ct_requires_grad(handle) }
        set { _ = Tensor(checking: ct_set_requires_grad(handle, newValue)) }
    }

    /// Sets `requiresGrad` and returns self (for chaining at creation).
    @discardableResult public func requiringGrad(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    public var isLeaf: Bool { ct_is_leaf(handle) }

    /// The accumulated gradient, nil when none has been computed (or it was cleared).
    public var grad: Tensor? {
        get {
            let g = Tensor(checking: ct_grad(handle))
            return g.isDefined ? g : nil
        }
        set { Torch.check(ct_set_grad(handle, newValue?.handle)) }
    }

    /// Back-propagates from this tensor (a scalar unless `gradient` is given).
    public func backward(gradient: Tensor? = nil, retainGraph: Bool = false) {
        Torch.check(ct_backward(handle, gradient?.handle, retainGraph))
    }

    /// libtorch's version counter of this tensor's data: it grows with every in-place change
    /// (loading a checkpoint, an optimizer step), so a value derived from a tensor stays valid
    /// while the version is unchanged.
    public var version: Int64 { ct_version(handle) }

    /// A tensor sharing storage with no autograd history.
    public func detach() -> Tensor { Tensor(checking: ct_detach(handle)).traced(.identity, [self], view: true) }
}

/// Gradients of `outputs` with respect to `inputs` (`torch.autograd.grad`), without touching `.grad`.
/// - Parameters:
///   - gradOutputs: one gradient per output, shaped like it (needed for non-scalar outputs).
///   - createGraph: records the backward pass so the result can be differentiated again.
/// - Returns: one gradient per input, shaped like it; an undefined tensor (`isDefined == false`)
///   for an input the outputs do not depend on.
public func gradients(
    of outputs: [Tensor], withRespectTo inputs: [Tensor], gradOutputs: [Tensor]? = nil,
    createGraph: Bool = false
) -> [Tensor] {
    precondition(
        gradOutputs == nil || gradOutputs!.count == outputs.count,
        "gradients(of:withRespectTo:gradOutputs:): \(gradOutputs!.count) gradOutputs for \(outputs.count) outputs")
    let o: [ct_tensor?] = outputs.map { $0.handle }
    let i: [ct_tensor?] = inputs.map { $0.handle }
    let g: [ct_tensor?]? = gradOutputs?.map { $0.handle }
    var out = [ct_tensor?](repeating: nil, count: inputs.count)
    let status = withExtendedLifetime((outputs, inputs, gradOutputs)) {
        ct_autograd_grad(o, Int64(o.count), g, i, Int64(i.count), createGraph, &out)
    }
    Torch.check(status)
    return out.map { Tensor(checking: $0) }
}

/// Whether autograd records operations on this thread now (false inside `withNoGrad`).
public var isGradEnabled: Bool { ct_is_grad_enabled() }

/// Whether autograd has to record an operation on `tensors` now: recording is on and one of them
/// requires a gradient. Inference-only fast paths (folded normalisations, fused kernels without a
/// backward) run only when this is false.
public func gradientNeeded(by tensors: [Tensor?]) -> Bool {
    isGradEnabled && tensors.contains { $0?.requiresGrad ?? false }
}

/// Runs `body` with gradient recording disabled on this thread (`torch.no_grad()`).
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    let previous = ct_set_grad_enabled(false)
    defer { _ = ct_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` with gradient recording enabled (inside an enclosing `withNoGrad`).
public func withGrad<T>(_ body: () throws -> T) rethrows -> T {
    let previous = ct_set_grad_enabled(true)
    defer { _ = ct_set_grad_enabled(previous) }
    return try body()
}
