/// The calls a pickle asks for (REDUCE, NEWOBJ, persistent ids), interpreted only for the
/// `KnownGlobal` allowlist; every other call becomes an opaque object node.
extension Unpickler {
    mutating func reduce(_ callable: PickleNode, _ args: PickleNode) throws -> PickleNode {
        guard args.isTuple else { throw fail("REDUCE arguments are a \(args.typeName), not a tuple") }
        guard case .global(let module, let name) = callable.kind else {
            return opaque(callable.typeName, args.items)
        }
        guard let known = KnownGlobal.resolve(module: module, name: name) else {
            return opaque("\(module).\(name)", args.items)
        }
        return try call(known, className: "\(module).\(name)", args.items)
    }

    mutating func newObject(_ cls: PickleNode, _ args: PickleNode) throws -> PickleNode {
        guard args.isTuple else { throw fail("NEWOBJ arguments are a \(args.typeName), not a tuple") }
        guard case .global(let module, let name) = cls.kind else { return opaque(cls.typeName, args.items) }
        switch KnownGlobal.resolve(module: module, name: name) {
        case .orderedDict?: return arena.make(.dict(ordered: true))
        case .set?, .frozenset?: return try call(.set, className: name, args.items)
        default: return opaque("\(module).\(name)", args.items)
        }
    }

    private func opaque(_ className: String, _ args: [PickleNode]) -> PickleNode {
        let node = arena.make(.object(className: className))
        node.items = args
        return node
    }

    private mutating func call(_ known: KnownGlobal, className: String, _ args: [PickleNode]) throws -> PickleNode {
        switch known {
        case .orderedDict:
            let node = arena.make(.dict(ordered: true))
            if let initial = args.first {
                if case .dict = initial.kind {
                    node.pairs = initial.pairs
                } else {
                    for pair in initial.items {
                        guard pair.items.count == 2 else { throw fail("OrderedDict item is not a pair") }
                        node.pairs.append((pair.items[0], pair.items[1]))
                    }
                }
            }
            return node
        case .rebuildTensorV2:
            return try tensor(args, dtypeArgument: nil)
        case .rebuildTensorV3:
            return try tensor(args, dtypeArgument: 6)
        case .rebuildParameter, .rebuildParameterWithState:
            // Parameter(data, requires_grad, backward_hooks[, state]): the data is the value.
            guard let data = args.first else { throw fail("_rebuild_parameter without arguments") }
            return data
        case .rebuildFromType:
            // _rebuild_from_type_v2(func, type, args, state): a tensor with Python attributes.
            guard args.count >= 3, args[2].isTuple, case .global(let m, let n) = args[0].kind,
                let inner = KnownGlobal.resolve(module: m, name: n)
            else { return opaque(className, args) }
            switch inner {
            case .rebuildTensorV2, .rebuildTensorV3, .rebuildParameter, .rebuildParameterWithState:
                return try call(inner, className: "\(m).\(n)", args[2].items)
            default:
                return opaque(className, args)
            }
        case .set, .frozenset:
            let node = arena.make(.set(frozen: { if case .frozenset = known { true } else { false } }()))
            if let initial = args.first {
                switch initial.kind {
                case .list, .tuple, .set: node.items = initial.items
                case .dict: node.items = initial.pairs.map(\.0)
                default: throw fail("\(className) of a \(initial.typeName)")
                }
            }
            return node
        case .bytes:
            // Protocols 0-2 write b"" as bytes(); other arguments are not interpreted.
            return args.isEmpty ? arena.make(.bytes([])) : opaque(className, args)
        case .codecsEncode:
            // Protocol 2 writes bytes as _codecs.encode(text, 'latin1').
            guard args.count == 2, let text = args[0].string, let encoding = args[1].string else {
                return opaque(className, args)
            }
            switch encoding.lowercased() {
            case "latin1", "latin-1", "iso-8859-1":
                guard text.unicodeScalars.allSatisfy({ $0.value < 256 }) else {
                    throw fail("non-latin-1 text for latin1 bytes")
                }
                return arena.make(.bytes(text.unicodeScalars.map { UInt8($0.value) }))
            case "utf-8", "utf8":
                return arena.make(.bytes(Array(text.utf8)))
            default:
                return opaque(className, args)
            }
        case .reconstructor:
            // copyreg._reconstructor(cls, base, state): protocol 0/1 form of an object.
            if let cls = args.first, case .global(let m, let n) = cls.kind { return opaque("\(m).\(n)", []) }
            return opaque(className, args)
        case .storageType, .dtype:
            return opaque(className, args)
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, ...)`.
    private func tensor(_ args: [PickleNode], dtypeArgument: Int?) throws -> PickleNode {
        guard args.count >= 4 else { throw fail("tensor rebuild with \(args.count) arguments") }
        guard case .storage(let storage) = args[0].kind else { throw fail("tensor storage is a \(args[0].typeName)") }
        guard let offset = args[1].int else { throw fail("tensor storage offset is a \(args[1].typeName)") }
        let size = try integers(args[2], "size"), stride = try integers(args[3], "stride")
        var dtype = storage.dtype
        if let index = dtypeArgument {
            guard index < args.count else { throw fail("_rebuild_tensor_v3 without a dtype") }
            switch args[index].kind {
            case .dtype(let d): dtype = d
            case .global(let m, let n):
                guard case .dtype(let d)? = KnownGlobal.resolve(module: m, name: n) else {
                    throw fail("unsupported tensor dtype \(m).\(n)")
                }
                dtype = d
            default: throw fail("tensor dtype is a \(args[index].typeName)")
            }
        }
        let spec = TensorSpec(storage: storage, dtype: dtype, offset: offset, size: size, stride: stride)
        do {
            _ = try spec.validate()
        } catch let failure as RebuildFailure {
            throw fail("tensor on storage \(storage.key): \(failure)")
        }
        return arena.make(.tensor(spec))
    }

    private func integers(_ node: PickleNode, _ what: String) throws -> [Int] {
        switch node.kind {
        case .tuple, .list: break
        case .object(let c) where c == "torch.Size" && node.items.count == 1: return try integers(node.items[0], what)
        default: throw fail("tensor \(what) is a \(node.typeName)")
        }
        return try node.items.map {
            guard let i = $0.int else { throw fail("tensor \(what) holds a \($0.typeName)") }
            return i
        }
    }

    /// `('storage', storage_type, key, location, numel[, view_metadata])` → a storage node.
    mutating func persistentLoad(_ pid: PickleNode) throws -> PickleNode {
        guard pid.isTuple, pid.items.count >= 5, pid.items[0].string == "storage" else {
            throw fail("unsupported persistent id (a \(pid.typeName))")
        }
        let fields = pid.items
        guard case .global(let m, let n) = fields[1].kind else { throw fail("storage type is a \(fields[1].typeName)") }
        guard case .storageType(let dtype)? = KnownGlobal.resolve(module: m, name: n) else {
            throw fail("unsupported storage type \(m).\(n)")
        }
        let key: String
        switch fields[2].kind {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw fail("storage key is a \(fields[2].typeName)")
        }
        guard let numel = fields[4].int, numel >= 0 else { throw fail("storage \(key) has an invalid element count") }
        if let known = storages[key] {
            guard known.dtype == dtype else { throw fail("storage \(key) is used as \(known.dtype) and \(dtype)") }
            storages[key]?.numel = max(known.numel, numel)
        } else {
            storages[key] = StorageRef(key: key, dtype: dtype, offset: 0, numel: numel)
        }
        var ref = StorageRef(key: key, dtype: dtype, offset: 0, numel: numel)
        // Legacy storage views: (view_key, offset, view_size) inside the root storage.
        if fields.count >= 6, fields[5].isTuple {
            let view = fields[5].items
            guard view.count == 3, let offset = view[1].int, let size = view[2].int, offset >= 0, size >= 0,
                case (let end, false) = offset.addingReportingOverflow(size), end <= numel
            else { throw fail("storage \(key) has an invalid view") }
            ref.offset = offset
            ref.numel = size
        }
        return arena.make(.storage(ref))
    }
}
