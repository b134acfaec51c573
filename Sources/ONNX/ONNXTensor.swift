import Foundation
import ONNXProto
import Torch

/// `TensorProto`s from Swift values and `Tensor`s.
public enum ONNXTensor {
    /// The ONNX element type of `dtype` (`TensorProto.DataType`).
    public static func dataType(_ dtype: DType) -> Int32 {
        let t: Onnx_TensorProto.DataType =
            switch dtype {
            case .float32: .float
            case .float16: .float16
            case .bfloat16: .bfloat16
            case .float64: .double
            case .int64: .int64
            case .int32: .int32
            case .uint8: .uint8
            case .bool: .bool
            case .int8: .int8
            case .int16: .int16
            }
        return Int32(t.rawValue)
    }

    /// The readable name of an ONNX element type ("float32", "int64"...).
    public static func typeName(_ code: Int32) -> String {
        guard let t = Onnx_TensorProto.DataType(rawValue: Int(code)) else { return "type \(code)" }
        switch t {
        case .float: return "float32"
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
        case .double: return "float64"
        case .int64: return "int64"
        case .int32: return "int32"
        case .int16: return "int16"
        case .int8: return "int8"
        case .uint8: return "uint8"
        case .bool: return "bool"
        default: return "\(t)"
        }
    }

    /// A tensor of the contiguous little-endian bytes of `tensor`.
    public static func make(_ tensor: Tensor, name: String = "") -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = tensor.shape.map(Int64.init)
        t.dataType = dataType(tensor.dtype)
        t.rawData = Data(tensor.contiguous().bytes())
        return t
    }

    static func make(_ values: [Int64], shape: [Int]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.dims = shape.map(Int64.init)
        t.dataType = dataType(.int64)
        t.rawData = values.withUnsafeBytes { Data($0) }
        return t
    }

    /// A 0-d tensor of `dtype` holding `value` (rounded as a cast to `dtype` rounds).
    static func scalar(_ value: Double, dtype: DType) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.dataType = dataType(dtype)
        t.rawData = Data(Tensor([value], shape: []).to(dtype).bytes())
        return t
    }

    static func integerScalar(_ value: Int64, dtype: DType) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.dataType = dataType(dtype)
        t.rawData = Data(Tensor([value], shape: []).to(dtype).bytes())
        return t
    }
}
