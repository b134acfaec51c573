/// The callables and classes whose pickled calls are interpreted. Everything else becomes
/// an opaque `PickleObject`.
enum KnownGlobal {
    case orderedDict
    case rebuildTensorV2
    case rebuildTensorV3
    case rebuildParameter
    case rebuildParameterWithState
    case rebuildFromType
    case storageType(DType)
    case dtype(DType)
    case set
    case frozenset
    case bytes
    case codecsEncode
    case reconstructor

    static func resolve(module: String, name: String) -> KnownGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor_v3"): return .rebuildTensorV3
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameterWithState
        case ("torch._tensor", "_rebuild_from_type_v2"): return .rebuildFromType
        case ("builtins", "set"), ("__builtin__", "set"): return .set
        case ("builtins", "frozenset"), ("__builtin__", "frozenset"): return .frozenset
        case ("builtins", "bytes"), ("__builtin__", "bytes"): return .bytes
        case ("_codecs", "encode"): return .codecsEncode
        case ("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor"): return .reconstructor
        case ("torch", _), ("torch.cuda", _), ("torch.storage", _):
            if let dtype = storageDType(name) { return .storageType(dtype) }
            if module == "torch", let dtype = DType(name: name) { return .dtype(dtype) }
            return nil
        default: return nil
        }
    }

    /// The storage class of an element type (`FloatStorage`).
    static func storageClassName(_ dtype: DType) -> String {
        switch dtype {
        case .float32: "FloatStorage"
        case .float16: "HalfStorage"
        case .bfloat16: "BFloat16Storage"
        case .float64: "DoubleStorage"
        case .int64: "LongStorage"
        case .int32: "IntStorage"
        case .int16: "ShortStorage"
        case .int8: "CharStorage"
        case .uint8: "ByteStorage"
        case .bool: "BoolStorage"
        }
    }

    /// The element type of a storage class name (`FloatStorage`, `UntypedStorage`).
    static func storageDType(_ name: String) -> DType? {
        switch name {
        case "FloatStorage": .float32
        case "HalfStorage": .float16
        case "BFloat16Storage": .bfloat16
        case "DoubleStorage": .float64
        case "LongStorage": .int64
        case "IntStorage": .int32
        case "ShortStorage": .int16
        case "CharStorage": .int8
        case "ByteStorage", "UntypedStorage", "_UntypedStorage": .uint8
        case "BoolStorage": .bool
        default: nil
        }
    }
}
