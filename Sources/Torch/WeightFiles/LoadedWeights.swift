/// The model weights found in a weight file, with what else a training checkpoint holds.
///
/// For a plain state dict (a `dict` or `OrderedDict` of tensors) `tensors` is that dict. For a
/// training checkpoint `{"model": state_dict, "optimizer": ..., "args": Namespace, "epoch": N}`
/// it is the `model` entry (or `state_dict` / `model_state_dict`) under its bare keys, and the
/// other top-level entries are listed in `otherEntries`. Non-tensor values inside the state
/// dict are skipped.
public struct LoadedWeights: @unchecked Sendable {
    public var format: WeightFile.Format
    /// The model's tensors under their state-dict keys, in file order.
    public var tensors: StateDict
    /// The checkpoint entry the tensors came from (`model`); nil when the file is the state dict.
    public var stateDictKey: String?
    /// The top-level entries that are not the model's tensors (`args`, `epoch`, `optimizer`).
    public var otherEntries: [CheckpointEntry]
    /// The whole unpickled object of a `.pth` file; nil for safetensors.
    public var root: PickleValue?
    /// The `__metadata__` of a safetensors file; empty for `.pth`.
    public var metadata: [String: String]

    public init(
        format: WeightFile.Format, tensors: StateDict, stateDictKey: String? = nil,
        otherEntries: [CheckpointEntry] = [], root: PickleValue? = nil, metadata: [String: String] = [:]
    ) {
        self.format = format
        self.tensors = tensors
        self.stateDictKey = stateDictKey
        self.otherEntries = otherEntries
        self.root = root
        self.metadata = metadata
    }

    /// Finds the model state dict in an unpickled `.pth` object.
    public init(format: WeightFile.Format, root: PickleValue, name: String) throws {
        guard let entries = root.dictEntries else {
            throw FileError(file: name, problem: "does not hold a state dict (its top-level value is \(root.summary))")
        }
        var tensors = StateDict()
        var others: [CheckpointEntry] = []
        let nested = WeightFile.stateDictKeys.lazy.compactMap { key in
            entries.first { $0.key.string == key && $0.value.dictEntries != nil }
        }.first
        if let nested, let stateDict = nested.value.dictEntries {
            for (key, value) in stateDict {
                if let t = value.tensor, let name = Self.keyName(key) { tensors[name] = t }
            }
            for (key, value) in entries where key.string != nested.key.string {
                others.append(CheckpointEntry(key: Self.keyName(key) ?? key.summary, value: value))
            }
        } else {
            for (key, value) in entries {
                if let t = value.tensor, let name = Self.keyName(key) {
                    tensors[name] = t
                } else {
                    others.append(CheckpointEntry(key: Self.keyName(key) ?? key.summary, value: value))
                }
            }
        }
        self.init(
            format: format, tensors: tensors, stateDictKey: nested?.key.string,
            otherEntries: others, root: root)
    }

    private static func keyName(_ key: PickleValue) -> String? {
        switch key {
        case .string(let s): s
        case .int(let i): String(i)
        default: nil
        }
    }
}

/// A top-level entry of a training checkpoint other than the model's state dict.
public struct CheckpointEntry: @unchecked Sendable {
    public var key: String
    public var value: PickleValue
    /// A short description: `argparse.Namespace with 37 attributes`, `int 12`, `dict with 3 entries`.
    public var summary: String { value.summary }

    public init(key: String, value: PickleValue) {
        self.key = key
        self.value = value
    }
}
