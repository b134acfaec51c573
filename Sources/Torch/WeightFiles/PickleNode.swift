/// A mutable object of the pickle machine while a pickle is being read.
///
/// Pickles build containers first and fill them later (EMPTY_DICT, BINPUT, ..., SETITEMS), and
/// refer back to them through the memo, so the machine works on shared reference nodes. Once
/// the pickle is read, the graph is converted into immutable `PickleValue`s.
final class PickleNode {
    enum Kind {
        case none
        case bool(Bool)
        case int(Int)
        case bigInt([UInt8])
        case float(Double)
        case string(String)
        case bytes([UInt8])
        case list
        case tuple
        case dict(ordered: Bool)
        case set(frozen: Bool)
        case global(module: String, name: String)
        case object(className: String)
        case dtype(DType)
        case storage(StorageRef)
        case tensor(TensorSpec)
    }

    let kind: Kind
    /// Elements of a list, tuple or set; constructor arguments of an object.
    var items: [PickleNode] = []
    /// Entries of a dict; items set on an object.
    var pairs: [(PickleNode, PickleNode)] = []
    /// Items appended to an object.
    var appended: [PickleNode] = []
    /// BUILD state of an object, attributes of a dict.
    var state: PickleNode?

    init(_ kind: Kind) { self.kind = kind }

    var string: String? { if case .string(let s) = kind { s } else { nil } }
    var int: Int? {
        switch kind {
        case .int(let i): i
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }
    var isTuple: Bool { if case .tuple = kind { true } else { false } }

    /// Short name of the node's type for error messages.
    var typeName: String {
        switch kind {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .list: "list"
        case .tuple: "tuple"
        case .dict: "dict"
        case .set(let frozen): frozen ? "frozenset" : "set"
        case .global(let m, let n): "\(m).\(n)"
        case .object(let c): c
        case .dtype: "torch.dtype"
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

/// Owns every container node of one read and takes the graph apart without recursion when
/// it ends, so that a deeply nested (or cyclic) pickle cannot overflow the stack in `deinit`.
final class PickleArena {
    private var containers: [PickleNode] = []
    /// Nodes created so far (the unpickler refuses pickles beyond `maxNodes`).
    private(set) var created = 0
    /// About 2.5 GB of nodes; a checkpoint's data.pkl holds a few per tensor.
    static let maxNodes = 20_000_000

    func make(_ kind: PickleNode.Kind) -> PickleNode {
        created += 1
        let node = PickleNode(kind)
        switch kind {
        case .list, .tuple, .dict, .set, .object: containers.append(node)
        default: break
        }
        return node
    }

    deinit {
        for node in containers {
            node.items = []
            node.pairs = []
            node.appended = []
            node.state = nil
        }
    }
}
