/// A value read from a Python pickle (the object tree of a `.pth` file).
///
/// Reading a pickle executes nothing: the only callables that are interpreted are a fixed
/// allowlist (`collections.OrderedDict`, torch's tensor and parameter rebuild functions, storage
/// types, `set`/`frozenset`, ...). Any other class or function call is kept as an `.object`
/// recording the class name and the arguments and state it would have been built from.
public indirect enum PickleValue: @unchecked Sendable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer outside the 64-bit range: two's-complement little-endian bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([PickleValue])
    case tuple([PickleValue])
    /// A `dict` or `collections.OrderedDict`, in pickled (insertion) order.
    case dict(PickleDict)
    case set([PickleValue], frozen: Bool)
    /// A tensor or `nn.Parameter`, rebuilt from its storage as a contiguous CPU tensor.
    case tensor(Tensor)
    /// A `torch.dtype` such as `torch.float32`.
    case dtype(DType)
    /// A class or function reference that is not called (`torch.FloatStorage`, `torch.Tensor`).
    case global(module: String, name: String)
    /// An instance of a class outside the allowlist, recorded but never constructed.
    case object(PickleObject)
}

/// A pickled `dict` or `collections.OrderedDict`.
public struct PickleDict: @unchecked Sendable {
    /// Entries in pickled order.
    public var entries: [(key: PickleValue, value: PickleValue)]
    /// True for `collections.OrderedDict`.
    public var isOrdered: Bool
    /// Instance attributes restored by BUILD, e.g. the `_metadata` of a module's state dict.
    public var attributes: PickleValue?

    public init(
        entries: [(key: PickleValue, value: PickleValue)] = [], isOrdered: Bool = false,
        attributes: PickleValue? = nil
    ) {
        self.entries = entries
        self.isOrdered = isOrdered
        self.attributes = attributes
    }

    public var count: Int { entries.count }

    /// The value of the first entry whose key is the string `key`.
    public subscript(key: String) -> PickleValue? {
        entries.first { $0.key.string == key }?.value
    }
}

/// An instance of a class the reader does not construct (e.g. `argparse.Namespace`).
public struct PickleObject: @unchecked Sendable {
    /// Dotted class (or function) name: `argparse.Namespace`.
    public var className: String
    /// Arguments of the constructor call (REDUCE / NEWOBJ).
    public var arguments: [PickleValue]
    /// The state passed to `__setstate__` (BUILD); for plain objects a dict of attributes.
    public var state: PickleValue?
    /// Items appended after construction (list subclasses).
    public var listItems: [PickleValue]
    /// Items set after construction (dict subclasses such as `collections.defaultdict`).
    public var dictItems: [(key: PickleValue, value: PickleValue)]

    public init(
        className: String, arguments: [PickleValue] = [], state: PickleValue? = nil,
        listItems: [PickleValue] = [], dictItems: [(key: PickleValue, value: PickleValue)] = []
    ) {
        self.className = className
        self.arguments = arguments
        self.state = state
        self.listItems = listItems
        self.dictItems = dictItems
    }

    /// The instance attribute `name` when the state is an attribute dict (`args.lr`).
    public func attribute(_ name: String) -> PickleValue? {
        if case .dict(let d)? = state { return d[name] }
        // (dict_state, slot_state) pairs, as written for classes with __slots__
        if case .tuple(let parts)? = state, parts.count == 2 {
            for part in parts { if case .dict(let d) = part, let v = d[name] { return v } }
        }
        return nil
    }
}

// MARK: - accessors

extension PickleValue {
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var int: Int? {
        switch self {
        case .int(let i): i
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }
    public var double: Double? {
        switch self {
        case .float(let d): d
        case .int(let i): Double(i)
        default: nil
        }
    }
    public var tensor: Tensor? { if case .tensor(let t) = self { t } else { nil } }
    public var isNone: Bool { if case .none = self { true } else { false } }

    /// Elements of a list, tuple or set.
    public var elements: [PickleValue]? {
        switch self {
        case .list(let v), .tuple(let v), .set(let v, _): v
        default: nil
        }
    }

    /// Key/value entries of a dict, OrderedDict or a dict subclass kept as an object.
    public var dictEntries: [(key: PickleValue, value: PickleValue)]? {
        switch self {
        case .dict(let d): d.entries
        case .object(let o) where !o.dictItems.isEmpty: o.dictItems
        default: nil
        }
    }

    /// `value["key"]`: a dict entry, or an attribute of an object (`checkpoint["args"]?["lr"]`).
    public subscript(key: String) -> PickleValue? {
        if case .object(let o) = self { return o.attribute(key) ?? o.dictItems.first { $0.key.string == key }?.value }
        return dictEntries?.first { $0.key.string == key }?.value
    }
}

// MARK: - summaries

extension PickleValue {
    /// A short human description: `int 12`, `dict with 3 entries`, `argparse.Namespace`,
    /// `tensor float32 [64, 3, 7, 7]`.
    public var summary: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return "bool \(b ? "True" : "False")"
        case .int(let i): return "int \(i)"
        case .bigInt(let b): return "int (\(b.count * 8)-bit)"
        case .float(let d): return "float \(d)"
        case .string(let s): return "str '\(s.count > 60 ? String(s.prefix(57)) + "..." : s)'"
        case .bytes(let b): return "bytes (\(b.count))"
        case .list(let v): return "list with \(Self.count(v.count, "item"))"
        case .tuple(let v): return "tuple with \(Self.count(v.count, "item"))"
        case .set(let v, let frozen): return "\(frozen ? "frozenset" : "set") with \(Self.count(v.count, "item"))"
        case .dict(let d): return "\(d.isOrdered ? "OrderedDict" : "dict") with \(Self.count(d.count, "entry"))"
        case .tensor(let t): return "tensor \(t.dtype) \(t.shape)"
        case .dtype(let d): return "torch.\(d)"
        case .global(let m, let n): return "\(m).\(n)"
        case .object(let o):
            if case .dict(let d)? = o.state { return "\(o.className) with \(Self.count(d.count, "attribute"))" }
            if !o.dictItems.isEmpty { return "\(o.className) with \(Self.count(o.dictItems.count, "entry"))" }
            return o.className
        }
    }

    private static func count(_ n: Int, _ noun: String) -> String {
        if n == 1 { return "1 \(noun)" }
        return noun.hasSuffix("y") ? "\(n) \(noun.dropLast())ies" : "\(n) \(noun)s"
    }
}
