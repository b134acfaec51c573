import Torch

/// A neural-network module: a node of a model tree whose tensors live in a `ParameterStore`
/// under `path`.
///
/// A module declares its children and tensors in its initialiser, each beside its state-dict
/// key segment, and keeps them in `let` properties:
///
/// ```swift
/// struct Block: Module {
///     let path: ModulePath
///     let conv1: Conv2d
///     let bn1: FrozenBatchNorm2d
///     let layers: ModuleList<Linear>
///     let alpha: Tensor
///     init(_ p: ModulePath) {
///         path = p
///         alpha = p.parameter("alpha", shape: [3], initializer: .zeros)        // "alpha"
///         conv1 = Conv2d(p / "conv1", inChannels: 3, outChannels: 8, kernelSize: 3, bias: false)
///         bn1 = FrozenBatchNorm2d(p / "bn1", numFeatures: 8)                   // "bn1.weight", ...
///         layers = ModuleList(p / "layers", count: 2) { q, _ in                // "layers.0.weight", ...
///             Linear(q, inFeatures: 8, outFeatures: 8)
///         }
///     }
/// }
/// let store = ParameterStore()
/// let block = Block(store.root)
/// try block.load(stateDict: Safetensors.read(contentsOf: url).tensors)
/// ```
///
/// Everything that walks the tree (`namedParameters()`, `stateDict()`, `load(stateDict:)`,
/// `freeze()`) is provided by extensions and works on any subtree, with keys relative to
/// that module like PyTorch's `submodule.state_dict()`.
///
/// Training behaviour is never a hidden mode: forward functions that differ take `training: Bool`.
public protocol Module {
    /// Where this module's tensors are registered.
    var path: ModulePath { get }
}

extension Module {
    /// Entries of this module and its descendants, in state-dict order.
    var storeEntries: [ParameterStore.Entry] { path.store.entries(under: path.components) }

    /// The key of an entry relative to this module.
    func relativeKey(_ entry: ParameterStore.Entry) -> String {
        entry.components.dropFirst(path.components.count).joined(separator: ".")
    }

    /// Parameters (trainable or frozen) with keys relative to this module, in PyTorch's order.
    /// A tied tensor (alias) is listed once, under its primary key.
    public func namedParameters() -> [(key: String, tensor: Tensor)] {
        storeEntries.filter { $0.kind == .parameter && $0.aliasOf == nil }.map { (relativeKey($0), $0.tensor) }
    }

    /// The parameter tensors, in PyTorch's order.
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Buffers (persistent or not) with keys relative to this module.
    public func namedBuffers() -> [(key: String, tensor: Tensor)] {
        storeEntries.filter { $0.kind != .parameter && $0.aliasOf == nil }.map { (relativeKey($0), $0.tensor) }
    }

    /// Parameters that currently require gradients (not frozen).
    public func trainableParameters() -> [(key: String, tensor: Tensor)] {
        namedParameters().filter { $0.tensor.requiresGrad }
    }

    /// Number of scalar values in all parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Stops gradient computation for every parameter of this module (or those whose relative
    /// key satisfies `predicate`).
    public func freeze(where predicate: (String) -> Bool = { _ in true }) {
        setRequiresGrad(false, where: predicate)
    }

    /// Re-enables gradients for every parameter of this module (or those matching `predicate`).
    public func unfreeze(where predicate: (String) -> Bool = { _ in true }) {
        setRequiresGrad(true, where: predicate)
    }

    private func setRequiresGrad(_ flag: Bool, where predicate: (String) -> Bool) {
        for (key, t) in namedParameters() where predicate(key) { t.requiresGrad = flag }
    }

    /// Zeroes the gradients of all parameters of this module in place (PyTorch 1.13's default),
    /// or removes them when `setToNone`.
    public func zeroGrad(setToNone: Bool = false) {
        for t in parameters() { clearGrad(t, setToNone: setToNone) }
    }
}

/// Zeroes (in place, detached) or removes a tensor's gradient.
func clearGrad(_ t: Tensor, setToNone: Bool) {
    guard let g = t.grad else { return }
    if setToNone {
        t.grad = nil
    } else {
        withNoGrad { _ = g.detach().zero_() }
    }
}
