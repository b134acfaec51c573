/// Why a pickle cannot be read; the description names the opcode position.
struct PickleFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A pickle virtual machine (protocols 0 to 5, as far as `torch.save` and common checkpoint
/// contents need) that executes nothing: it builds a `PickleNode` graph.
///
/// Every length read from the input is checked against the remaining bytes, so a malformed or
/// hostile pickle ends in a `PickleFailure`. Memory stays proportional to the input (each
/// opcode creates at most one node) and below `PickleArena.maxNodes` nodes.
struct Unpickler {
    private var reader: ByteReader
    let arena: PickleArena
    private var stack: [PickleNode] = []
    private var metastack: [[PickleNode]] = []
    private var memo: [Int: PickleNode] = [:]
    /// Offset of the opcode being executed, for error messages.
    private var opcodeOffset = 0
    /// Storages named by persistent ids, by key, with the largest element count any id gave.
    var storages: [String: StorageRef] = [:]

    /// Nesting of MARKs we accept; far beyond anything a checkpoint uses.
    static let maxMarkDepth = 10_000

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0, arena: PickleArena) {
        self.reader = ByteReader(bytes, offset: offset)
        self.arena = arena
    }

    /// Offset just after the STOP opcode once `load()` returned (the next pickle of a legacy file).
    var offset: Int { reader.offset }

    /// Runs the machine to its STOP opcode and returns the pickled object.
    mutating func load() throws -> PickleNode {
        stack = []
        metastack = []
        memo = [:]
        do {
            while true {
                opcodeOffset = reader.offset
                let opcode = try reader.u8()
                if opcode == 0x2E {  // STOP
                    let result = try pop()
                    guard metastack.isEmpty else { throw fail("pickle ends inside a MARK") }
                    return result
                }
                try execute(opcode)
                guard arena.created <= PickleArena.maxNodes else {
                    throw fail("pickle builds more than \(PickleArena.maxNodes) objects")
                }
            }
        } catch let failure as ByteReader.OutOfData {
            let left = failure.offset <= reader.bytes.count ? reader.bytes.count - failure.offset : 0
            throw PickleFailure(
                "truncated pickle (opcode at byte \(opcodeOffset) needs \(failure.needed) bytes, \(left) remain)")
        }
    }

    func fail(_ problem: String) -> PickleFailure {
        PickleFailure("\(problem) at byte \(opcodeOffset)")
    }

    // MARK: - stack

    private mutating func push(_ kind: PickleNode.Kind) { stack.append(arena.make(kind)) }

    private mutating func pop() throws -> PickleNode {
        guard let top = stack.popLast() else { throw fail("pickle stack underflow") }
        return top
    }

    private func top() throws -> PickleNode {
        guard let top = stack.last else { throw fail("pickle stack underflow") }
        return top
    }

    private mutating func popMark() throws -> [PickleNode] {
        guard let outer = metastack.popLast() else { throw fail("pickle MARK missing") }
        let items = stack
        stack = outer
        return items
    }

    private func pairs(_ items: [PickleNode]) throws -> [(PickleNode, PickleNode)] {
        guard items.count % 2 == 0 else { throw fail("odd number of items for a dict") }
        return stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
    }

    private mutating func memoize(_ index: Int) throws {
        memo[index] = try top()
    }

    private func recall(_ index: Int) throws -> PickleNode {
        guard let node = memo[index] else { throw fail("pickle memo entry \(index) is undefined") }
        return node
    }

    // MARK: - opcodes

    private mutating func execute(_ opcode: UInt8) throws {
        switch opcode {
        case 0x80:  // PROTO
            let protocolVersion = try reader.u8()
            guard protocolVersion <= 5 else { throw fail("unsupported pickle protocol \(protocolVersion)") }
        case 0x95:  // FRAME: a length hint; the frame must lie inside the input
            try reader.require(try reader.u64())
        case 0x28:  // MARK
            guard metastack.count < Self.maxMarkDepth else { throw fail("pickle MARKs nested too deeply") }
            metastack.append(stack)
            stack = []
        case 0x4E: push(.none)
        case 0x88: push(.bool(true))
        case 0x89: push(.bool(false))
        case 0x4A: push(.int(Int(try reader.i32())))  // BININT
        case 0x4B: push(.int(Int(try reader.u8())))  // BININT1
        case 0x4D: push(.int(Int(try reader.u16())))  // BININT2
        case 0x8A: push(Self.integer(try reader.view(Int(try reader.u8()))))  // LONG1
        case 0x8B:  // LONG4
            let n = try reader.i32()
            guard n >= 0 else { throw fail("negative LONG4 length") }
            push(Self.integer(try reader.view(Int(n))))
        case 0x49: push(try textInteger(allowBool: true))  // INT
        case 0x4C: push(try textInteger(allowBool: false))  // LONG
        case 0x46:  // FLOAT
            guard let d = Double(Self.latin1(try reader.line())) else { throw fail("malformed FLOAT") }
            push(.float(d))
        case 0x47: push(.float(try reader.f64BigEndian()))  // BINFLOAT
        case 0x58: push(.string(Self.utf8(try reader.view(UInt64(try reader.u32())))))  // BINUNICODE
        case 0x8C: push(.string(Self.utf8(try reader.view(Int(try reader.u8())))))  // SHORT_BINUNICODE
        case 0x8D: push(.string(Self.utf8(try reader.view(try reader.u64()))))  // BINUNICODE8
        case 0x56: push(.string(Self.rawUnicodeEscape(try reader.line())))  // UNICODE
        case 0x54:  // BINSTRING
            let n = try reader.i32()
            guard n >= 0 else { throw fail("negative BINSTRING length") }
            push(.string(Self.latin1(try reader.view(Int(n)))))
        case 0x55: push(.string(Self.latin1(try reader.view(Int(try reader.u8())))))  // SHORT_BINSTRING
        case 0x42: push(.bytes(Array(try reader.view(UInt64(try reader.u32())))))  // BINBYTES
        case 0x43: push(.bytes(Array(try reader.view(Int(try reader.u8())))))  // SHORT_BINBYTES
        case 0x8E, 0x96: push(.bytes(Array(try reader.view(try reader.u64()))))  // BINBYTES8, BYTEARRAY8
        case 0x5D: push(.list)
        case 0x7D: push(.dict(ordered: false))
        case 0x29: push(.tuple)
        case 0x8F: push(.set(frozen: false))
        case 0x6C: try pushContainer(.list, items: try popMark())  // LIST
        case 0x74: try pushContainer(.tuple, items: try popMark())  // TUPLE
        case 0x91: try pushContainer(.set(frozen: true), items: try popMark())  // FROZENSET
        case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
            let n = Int(opcode - 0x84)
            guard stack.count >= n else { throw fail("pickle stack underflow") }
            let items = Array(stack.suffix(n))
            stack.removeLast(n)
            try pushContainer(.tuple, items: items)
        case 0x64:  // DICT
            let node = arena.make(.dict(ordered: false))
            node.pairs = try pairs(try popMark())
            stack.append(node)
        case 0x61:  // APPEND
            let value = try pop()
            try append([value], to: try top())
        case 0x65:  // APPENDS
            let items = try popMark()
            try append(items, to: try top())
        case 0x90:  // ADDITEMS
            let items = try popMark()
            let target = try top()
            guard case .set(frozen: false) = target.kind else { throw fail("ADDITEMS to a \(target.typeName)") }
            target.items.append(contentsOf: items)
        case 0x73:  // SETITEM
            let value = try pop(), key = try pop()
            try setItems([(key, value)], in: try top())
        case 0x75:  // SETITEMS
            let items = try pairs(try popMark())
            try setItems(items, in: try top())
        case 0x30:  // POP
            if stack.isEmpty { _ = try popMark() } else { stack.removeLast() }
        case 0x31: _ = try popMark()  // POP_MARK
        case 0x32: stack.append(try top())  // DUP
        case 0x68: stack.append(try recall(Int(try reader.u8())))  // BINGET
        case 0x6A: stack.append(try recall(Int(try reader.u32())))  // LONG_BINGET
        case 0x67: stack.append(try recall(try textIndex()))  // GET
        case 0x71: try memoize(Int(try reader.u8()))  // BINPUT
        case 0x72: try memoize(Int(try reader.u32()))  // LONG_BINPUT
        case 0x70: try memoize(try textIndex())  // PUT
        case 0x94: try memoize(memo.count)  // MEMOIZE
        case 0x63:  // GLOBAL
            let module = Self.utf8(try reader.line()), name = Self.utf8(try reader.line())
            push(.global(module: module, name: name))
        case 0x93:  // STACK_GLOBAL
            let name = try pop(), module = try pop()
            guard let n = name.string, let m = module.string else { throw fail("STACK_GLOBAL needs two strings") }
            push(.global(module: m, name: n))
        case 0x52:  // REDUCE
            let args = try pop(), callable = try pop()
            stack.append(try reduce(callable, args))
        case 0x81:  // NEWOBJ
            let args = try pop(), cls = try pop()
            stack.append(try newObject(cls, args))
        case 0x92:  // NEWOBJ_EX (keyword arguments dropped)
            _ = try pop()
            let args = try pop(), cls = try pop()
            stack.append(try newObject(cls, args))
        case 0x69:  // INST
            let module = Self.utf8(try reader.line()), name = Self.utf8(try reader.line())
            let args = arena.make(.tuple)
            args.items = try popMark()
            stack.append(try newObject(arena.make(.global(module: module, name: name)), args))
        case 0x6F:  // OBJ
            var items = try popMark()
            guard !items.isEmpty else { throw fail("OBJ without a class") }
            let cls = items.removeFirst()
            let args = arena.make(.tuple)
            args.items = items
            stack.append(try newObject(cls, args))
        case 0x62:  // BUILD
            let state = try pop()
            let target = try top()
            switch target.kind {
            case .object, .dict: target.state = state
            default: break  // e.g. Python attributes of a tensor: not needed
            }
        case 0x51: stack.append(try persistentLoad(try pop()))  // BINPERSID
        case 0x50:  // PERSID
            throw fail("unsupported persistent id '\(Self.latin1(try reader.line()))'")
        default:
            let hex = String(opcode, radix: 16)
            throw fail("pickle opcode 0x\(hex.count < 2 ? "0" + hex : hex) not supported")
        }
    }

    private mutating func pushContainer(_ kind: PickleNode.Kind, items: [PickleNode]) throws {
        let node = arena.make(kind)
        node.items = items
        stack.append(node)
    }

    private func append(_ items: [PickleNode], to target: PickleNode) throws {
        switch target.kind {
        case .list: target.items.append(contentsOf: items)
        case .object: target.appended.append(contentsOf: items)
        default: throw fail("APPEND to a \(target.typeName)")
        }
    }

    private func setItems(_ items: [(PickleNode, PickleNode)], in target: PickleNode) throws {
        switch target.kind {
        case .dict, .object: target.pairs.append(contentsOf: items)
        default: throw fail("SETITEM on a \(target.typeName)")
        }
    }

    // MARK: - text-mode arguments

    private mutating func textIndex() throws -> Int {
        guard let i = Int(Self.latin1(try reader.line())), i >= 0 else { throw fail("malformed memo index") }
        return i
    }

    private mutating func textInteger(allowBool: Bool) throws -> PickleNode.Kind {
        var text = Self.latin1(try reader.line())
        if allowBool, text == "00" { return .bool(false) }
        if allowBool, text == "01" { return .bool(true) }
        if text.hasSuffix("L") { text.removeLast() }
        guard let i = Int(text) else { throw fail("malformed or too large integer literal") }
        return .int(i)
    }

    // MARK: - decoding

    /// A two's-complement little-endian integer (LONG1/LONG4), 64-bit when it fits.
    static func integer(_ bytes: UnsafeRawBufferPointer) -> PickleNode.Kind {
        var b = Array(bytes)
        // Drop redundant sign-extension bytes.
        while b.count > 1, let last = b.last,
            (last == 0 && b[b.count - 2] & 0x80 == 0) || (last == 0xFF && b[b.count - 2] & 0x80 != 0)
        {
            b.removeLast()
        }
        if b.isEmpty { return .int(0) }
        guard b.count <= 8 else { return .bigInt(b) }
        var v: UInt64 = (b.last ?? 0) & 0x80 != 0 ? ~0 : 0
        for (i, byte) in b.enumerated() {
            v &= ~(UInt64(0xFF) << (8 * UInt64(i)))
            v |= UInt64(byte) << (8 * UInt64(i))
        }
        return .int(Int(Int64(bitPattern: v)))
    }

    static func utf8(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }

    static func latin1(_ bytes: UnsafeRawBufferPointer) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return String(s)
    }

    /// Python's raw-unicode-escape codec (protocol 0 UNICODE): latin-1 plus \uXXXX and \UXXXXXXXX.
    static func rawUnicodeEscape(_ bytes: UnsafeRawBufferPointer) -> String {
        var out = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x5C, i + 1 < bytes.count, bytes[i + 1] == 0x75 || bytes[i + 1] == 0x55 {
                let width = bytes[i + 1] == 0x75 ? 4 : 8
                if i + 2 + width <= bytes.count,
                    let value = UInt32(
                        latin1(UnsafeRawBufferPointer(rebasing: bytes[(i + 2)..<(i + 2 + width)])), radix: 16)
                {
                    out.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                    i += 2 + width
                    continue
                }
            }
            out.append(Unicode.Scalar(b))
            i += 1
        }
        return String(out)
    }
}
