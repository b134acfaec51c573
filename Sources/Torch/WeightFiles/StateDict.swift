/// An ordered mapping from state-dict keys (`backbone.0.body.conv1.weight`) to tensors,
/// in the order they were inserted or read from a file.
public struct StateDict: Sequence, @unchecked Sendable {
    public private(set) var keys: [String] = []
    private var storage: [String: Tensor] = [:]

    public init() {}

    public init(_ pairs: [(String, Tensor)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Setting a new key appends it; setting an existing key keeps its position; nil removes it.
    public subscript(key: String) -> Tensor? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public func contains(_ key: String) -> Bool { storage[key] != nil }

    public func makeIterator() -> AnyIterator<(key: String, value: Tensor)> {
        var i = 0
        return AnyIterator {
            guard i < keys.count else { return nil }
            defer { i += 1 }
            return (keys[i], storage[keys[i]]!)
        }
    }

    /// Entries whose key starts with `prefix`, with the prefix removed (`"model."`).
    public func stripping(prefix: String) -> StateDict {
        var out = StateDict()
        for k in keys where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = storage[k] }
        return out
    }
}
