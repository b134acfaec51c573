import CTorch

/// Element types of a `Tensor`. Raw values are the shim's stable codes.
public enum DType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case float32 = 0, float16 = 1, bfloat16 = 2, float64 = 3
    case int64 = 4, int32 = 5, uint8 = 6, bool = 7, int8 = 8, int16 = 9

    /// PyTorch's name (`torch.float32` without the prefix).
    public var description: String {
        switch self {
        case .float32: "float32"
        case .float16: "float16"
        case .bfloat16: "bfloat16"
        case .float64: "float64"
        case .int64: "int64"
        case .int32: "int32"
        case .uint8: "uint8"
        case .bool: "bool"
        case .int8: "int8"
        case .int16: "int16"
        }
    }

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .uint8, .int8, .bool: 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: true
        default: false
        }
    }

    /// Looks up a dtype by PyTorch's name (`float32`, `float`, `half`, `long`, ...).
    public init?(name: String) {
        switch name {
        case "float32", "float": self = .float32
        case "float16", "half": self = .float16
        case "bfloat16": self = .bfloat16
        case "float64", "double": self = .float64
        case "int64", "long": self = .int64
        case "int32", "int": self = .int32
        case "uint8": self = .uint8
        case "bool": self = .bool
        case "int8": self = .int8
        case "int16", "short": self = .int16
        default: return nil
        }
    }
}
