import Torch

/// A module's place in a `ParameterStore`: the dotted key prefix of everything it creates.
///
/// Build child paths with `/`: `p / "layers" / 0 / "self_attn"` is the module whose
/// parameters are `layers.0.self_attn.<name>`. Segments are PyTorch's attribute names
/// (snake_case, exactly as in the checkpoint); Swift properties stay camelCase:
///
/// ```swift
/// struct FeedForward: Module {
///     let path: ModulePath
///     let linear1: Linear
///     let linear2: Linear
///     init(_ p: ModulePath, dim: Int, hidden: Int) {
///         path = p
///         linear1 = Linear(p / "linear1", inFeatures: dim, outFeatures: hidden)
///         linear2 = Linear(p / "linear2", inFeatures: hidden, outFeatures: dim)
///     }
/// }
/// ```
public struct ModulePath: CustomStringConvertible {
    public let store: ParameterStore
    /// Key segments from the store's root.
    public let components: [String]

    init(store: ParameterStore, components: [String]) {
        self.store = store
        self.components = components
    }

    /// The dotted prefix (`transformer.decoder.3`; empty at the root).
    public var key: String { components.joined(separator: ".") }
    public var description: String { components.isEmpty ? "<root>" : key }

    /// The full key of a tensor named `name` in this module.
    public func key(_ name: String) -> String { (components + [name]).joined(separator: ".") }

    /// The child module path `self.name`.
    public static func / (p: ModulePath, name: String) -> ModulePath {
        precondition(!name.isEmpty && !name.contains("."), "ModulePath: invalid segment '\(name)'")
        return ModulePath(store: p.store, components: p.components + [name])
    }

    /// The numbered child path `self.<index>` (ModuleList / Sequential entries).
    public static func / (p: ModulePath, index: Int) -> ModulePath {
        precondition(index >= 0, "ModulePath: negative index \(index)")
        return ModulePath(store: p.store, components: p.components + [String(index)])
    }

    // MARK: creating tensors

    /// Registers `value` (detached, moved to the store's device) as a trainable parameter.
    /// - Returns: the registered leaf tensor (requiresGrad), to keep in a module property.
    public func parameter(_ name: String, _ value: Tensor) -> Tensor {
        store.register(components + [checked(name)], value, kind: .parameter)
    }

    /// Creates a parameter of the store's dtype with `shape`, filled by `initializer`.
    public func parameter(_ name: String, shape: [Int], initializer: ParameterInit) -> Tensor {
        parameter(name, initializer.make(shape: shape, dtype: store.dtype, generator: store.generator))
    }

    /// Registers a buffer (running statistics, fixed tables). Persistent buffers are in the state dict.
    /// - Parameters:
    ///   - requiredOnLoad: false for state that older checkpoints may lack (`num_batches_tracked`):
    ///     `load(stateDict:)` then keeps the current value instead of reporting the key missing.
    public func buffer(
        _ name: String, _ value: Tensor, persistent: Bool = true, requiredOnLoad: Bool = true
    )
        -> Tensor
    {
        store.register(
            components + [checked(name)], value, kind: .buffer(persistent: persistent),
            requiredOnLoad: requiredOnLoad)
    }

    /// Creates a floating buffer of the store's dtype with `shape`, filled by `initializer`.
    public func buffer(_ name: String, shape: [Int], initializer: ParameterInit, persistent: Bool = true) -> Tensor {
        buffer(
            name, initializer.make(shape: shape, dtype: store.dtype, generator: store.generator),
            persistent: persistent)
    }

    /// Exposes every tensor registered under `module` again under this path (keys
    /// `<this path>.<relative key>`), sharing the tensors: for a submodule the official model
    /// assigns to two attributes, e.g. `transformer.encoder.enhance_mcsp = encoder_class_head`.
    /// See `ParameterStore.registerAlias` for how aliases save, load and count.
    public func alias(of module: ModulePath) {
        precondition(module.store === store, "ModulePath.alias: \(module) lives in another store")
        let sources = store.entries(under: module.components).filter { $0.aliasOf == nil }
        precondition(!sources.isEmpty, "ModulePath.alias: nothing is registered under \(module)")
        for e in sources {
            store.registerAlias(components + e.components.dropFirst(module.components.count), of: e.key)
        }
    }

    /// Declares that checkpoints may carry `name` in this module although the module does not
    /// use it (e.g. `num_batches_tracked` of a `FrozenBatchNorm2d`): it is dropped on load
    /// instead of being reported as unexpected.
    public func ignoreOnLoad(_ name: String) {
        store.ignoreOnLoad(components + [checked(name)])
    }

    private func checked(_ name: String) -> String {
        precondition(!name.isEmpty && !name.contains("."), "ModulePath: invalid tensor name '\(name)'")
        return name
    }
}
