/// Converts the node graph of a read pickle into `PickleValue`s, rebuilding tensors from
/// their storages on the way.
///
/// Shared nodes are converted once (a pickle may reference one container many times, so a
/// naive walk could grow exponentially); a node reached again while it is being converted
/// (a reference cycle) becomes a `<recursive reference>` object; nesting deeper than
/// `maxDepth` is refused.
struct PickleValueBuilder {
    /// Nesting depth we accept; checkpoints use a handful of levels.
    static let maxDepth = 100

    private let rebuild: (TensorSpec) throws -> Tensor
    private var converted: [ObjectIdentifier: PickleValue] = [:]
    private var inProgress: Set<ObjectIdentifier> = []
    /// Dict keys from the root to the node being converted, for error messages.
    private var path: [String] = []

    init(rebuild: @escaping (TensorSpec) throws -> Tensor) {
        self.rebuild = rebuild
    }

    /// Where the conversion is (`model.backbone.conv1.weight`), or `top level`.
    var location: String { path.isEmpty ? "top level" : path.joined(separator: ".") }

    mutating func value(of node: PickleNode) throws -> PickleValue {
        try value(node, depth: 0)
    }

    private mutating func value(_ node: PickleNode, depth: Int) throws -> PickleValue {
        switch node.kind {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .bigInt(let b): return .bigInt(b)
        case .float(let d): return .float(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .bytes(b)
        case .dtype(let d): return .dtype(d)
        case .global(let m, let n): return .global(module: m, name: n)
        case .storage(let ref):
            return .object(
                PickleObject(
                    className: "torch." + KnownGlobal.storageClassName(ref.dtype),
                    arguments: [.string(ref.key), .int(ref.numel)]))
        default: break
        }
        let id = ObjectIdentifier(node)
        if let done = converted[id] { return done }
        guard !inProgress.contains(id) else { return .object(PickleObject(className: "<recursive reference>")) }
        guard depth < Self.maxDepth else {
            throw PickleFailure("values nested deeper than \(Self.maxDepth) levels at \(location)")
        }
        inProgress.insert(id)
        defer { inProgress.remove(id) }
        let result: PickleValue
        switch node.kind {
        case .list: result = .list(try values(node.items, depth))
        case .tuple: result = .tuple(try values(node.items, depth))
        case .set(let frozen): result = .set(try values(node.items, depth), frozen: frozen)
        case .dict(let ordered):
            result = .dict(
                PickleDict(
                    entries: try entries(node.pairs, depth), isOrdered: ordered,
                    attributes: try node.state.map { try value($0, depth: depth + 1) }))
        case .object(let className):
            result = .object(
                PickleObject(
                    className: className,
                    arguments: try values(node.items, depth),
                    state: try node.state.map { try value($0, depth: depth + 1) },
                    listItems: try values(node.appended, depth),
                    dictItems: try entries(node.pairs, depth)))
        case .tensor(let spec):
            do {
                result = .tensor(try rebuild(spec))
            } catch let failure as RebuildFailure {
                throw PickleFailure("tensor at \(location): \(failure)")
            }
        default:
            result = .none  // scalars returned above
        }
        converted[id] = result
        return result
    }

    private mutating func values(_ nodes: [PickleNode], _ depth: Int) throws -> [PickleValue] {
        var out: [PickleValue] = []
        out.reserveCapacity(nodes.count)
        for n in nodes { out.append(try value(n, depth: depth + 1)) }
        return out
    }

    private mutating func entries(
        _ pairs: [(PickleNode, PickleNode)], _ depth: Int
    ) throws -> [(key: PickleValue, value: PickleValue)] {
        var out: [(key: PickleValue, value: PickleValue)] = []
        out.reserveCapacity(pairs.count)
        for (k, v) in pairs {
            let key = try value(k, depth: depth + 1)
            path.append(key.string ?? key.summary)
            defer { path.removeLast() }
            out.append((key, try value(v, depth: depth + 1)))
        }
        return out
    }
}
