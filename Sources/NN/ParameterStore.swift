import Torch

/// Owns every parameter and buffer of a model under its state-dict key.
///
/// Modules do not hold a registry of their own: they are built from a `ModulePath`
/// (`store.root / "transformer" / "decoder" / 3`) and create their tensors through it,
/// so a tensor's key is exactly the path it was created at (`transformer.decoder.3.norm.weight`).
/// The module keeps a reference to the same `Tensor` object, so loading a checkpoint
/// (an in-place copy) is seen by the module at once.
///
/// Order: `entries` reproduces `torch.nn.Module.state_dict()` ordering: for every module,
/// its own parameters, then its own buffers, then its children in the order they were
/// first used. As long as a Swift module builds its children in the order the PyTorch
/// module registers them, the key lists are identical.
public final class ParameterStore {
    /// What a registered tensor is.
    public enum Kind: Equatable, Sendable {
        /// Trainable (unless frozen), saved in the state dict.
        case parameter
        /// State that is not trained (running statistics, fixed tables); `persistent`
        /// buffers are saved in the state dict.
        case buffer(persistent: Bool)
    }

    /// One registered tensor.
    public struct Entry {
        public let key: String
        public let components: [String]
        public let tensor: Tensor
        public let kind: Kind
        /// Whether `load(stateDict:)` reports the key as missing when a checkpoint lacks it.
        public let requiredOnLoad: Bool
        /// For an alias (see `ModulePath.alias(of:)`), the key of the entry whose tensor it shares;
        /// nil for an ordinary registration.
        public var aliasOf: String? = nil
    }

    /// Floating dtype of parameters and floating buffers created through paths.
    public let dtype: DType
    /// Device every registered tensor is moved to.
    public let device: Device
    /// Random source of parameter initialisation (libtorch's global generator when nil).
    public let generator: Generator?

    private var created: [Entry] = []
    private var indexOfKey: [String: Int] = [:]
    private var ordered: [Int]?
    /// Full keys a checkpoint may contain that no module wants (silently dropped on load).
    private(set) var ignoredOnLoad: Set<String> = []

    /// A store whose parameters live on `device`.
    /// - Parameters:
    ///   - dtype: floating dtype of new parameters (float64 for gradient checks).
    ///   - device: throws `TorchError.deviceUnavailable` when it is not available.
    ///   - generator: seeded generator for initialisation, for reproducible runs.
    public init(dtype: DType = .float32, device: Device, generator: Generator? = nil) throws {
        precondition(dtype.isFloatingPoint, "ParameterStore dtype must be floating point, got \(dtype)")
        if case .cuda = device, !Device.cudaAvailable {
            throw TorchError.deviceUnavailable(
                """
                cannot use \(device): the linked libtorch has no CUDA support or no GPU is visible (README, section \
                Building, says how to link another libtorch)
                """
            )
        }
        self.dtype = dtype
        self.device = device
        self.generator = generator
    }

    /// A CPU store.
    public convenience init(dtype: DType = .float32, generator: Generator? = nil) {
        try! self.init(dtype: dtype, device: .cpu, generator: generator)  // the CPU is always available
    }

    /// The path with no prefix: a model built here has keys exactly as in its checkpoint.
    public var root: ModulePath { ModulePath(store: self, components: []) }

    /// Number of registered tensors.
    public var count: Int { created.count }

    /// The entry registered under `key`.
    public subscript(key: String) -> Entry? { indexOfKey[key].map { created[$0] } }

    /// All entries in state-dict order.
    public var entries: [Entry] { orderedIndices().map { created[$0] } }

    /// Entries whose key lies under `prefix` (the prefix itself being a module path), in state-dict order.
    public func entries(under prefix: [String]) -> [Entry] {
        guard !prefix.isEmpty else { return entries }
        return orderedIndices().lazy.map { self.created[$0] }.filter {
            $0.components.count > prefix.count && Array($0.components.prefix(prefix.count)) == prefix
        }
    }

    /// Whether a checkpoint key (full) is one to drop silently on load.
    func isIgnoredOnLoad(_ key: String) -> Bool { ignoredOnLoad.contains(key) }

    // MARK: registration (through ModulePath)

    func register(_ components: [String], _ value: Tensor, kind: Kind, requiredOnLoad: Bool = true) -> Tensor {
        let key = components.joined(separator: ".")
        precondition(indexOfKey[key] == nil, "ParameterStore: '\(key)' is registered twice")
        var t = withNoGrad { value.detach().contiguous() }  // an expanded view would alias elements
        if t.device != device {
            t = t.to(device)  // availability checked in init
        }
        if case .parameter = kind {
            t.requiresGrad = true
        }
        indexOfKey[key] = created.count
        created.append(
            Entry(
                key: key, components: components, tensor: t, kind: kind,
                requiredOnLoad: requiredOnLoad))
        ordered = nil
        return t
    }

    /// Registers `components` as a second key of the tensor registered under `key` — a tied
    /// tensor, like a PyTorch module reachable under two attribute paths. The alias shares the
    /// tensor object and has its own place in state-dict order, so `stateDict()` lists both keys
    /// (as PyTorch does) and loading either key writes the one tensor (when a checkpoint has both,
    /// the later key in state-dict order wins, as in PyTorch). `namedParameters()` and
    /// `namedBuffers()` list the tensor once, under its primary key (PyTorch's deduplication).
    /// An alias is not required on load: a checkpoint that has only the primary key loads.
    func registerAlias(_ components: [String], of key: String) {
        guard let i = indexOfKey[key] else { preconditionFailure("ParameterStore: alias of unknown key '\(key)'") }
        let target = created[i]
        precondition(target.aliasOf == nil, "ParameterStore: '\(key)' is itself an alias")
        let aliasKey = components.joined(separator: ".")
        precondition(indexOfKey[aliasKey] == nil, "ParameterStore: '\(aliasKey)' is registered twice")
        indexOfKey[aliasKey] = created.count
        created.append(
            Entry(
                key: aliasKey, components: components, tensor: target.tensor, kind: target.kind,
                requiredOnLoad: false, aliasOf: key))
        ordered = nil
    }

    func ignoreOnLoad(_ components: [String]) {
        ignoredOnLoad.insert(components.joined(separator: "."))
    }

    // MARK: ordering

    /// Indices of `created` in PyTorch's recursive order (own parameters, own buffers, children).
    private func orderedIndices() -> [Int] {
        if let ordered { return ordered }
        var out: [Int] = []
        out.reserveCapacity(created.count)
        appendOrdered(Array(created.indices), depth: 0, into: &out)
        ordered = out
        return out
    }

    private func appendOrdered(_ indices: [Int], depth: Int, into out: inout [Int]) {
        var ownParameters: [Int] = [], ownBuffers: [Int] = []
        var childNames: [String] = []
        var children: [String: [Int]] = [:]
        for i in indices {
            let c = created[i].components
            if c.count == depth + 1 {
                if created[i].kind == .parameter { ownParameters.append(i) } else { ownBuffers.append(i) }
            } else {
                let name = c[depth]
                if children[name] == nil { childNames.append(name) }
                children[name, default: []].append(i)
            }
        }
        out += ownParameters
        out += ownBuffers
        for name in childNames { appendOrdered(children[name]!, depth: depth + 1, into: &out) }
    }
}
