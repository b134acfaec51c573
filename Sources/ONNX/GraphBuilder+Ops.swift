import Foundation
import ONNXProto
import Torch

/// The lowerings that take more than one ONNX operator.
extension GraphBuilder {
    static func isComparison(_ op: BinaryOperator) -> Bool {
        switch op {
        case .eq, .ne, .lt, .le, .gt, .ge: true
        default: false
        }
    }

    static func isLogical(_ op: BinaryOperator) -> Bool {
        switch op {
        case .logicalAnd, .logicalOr, .logicalXor: true
        default: false
        }
    }

    /// PyTorch's promotion of two tensor dtypes (no scalars).
    static func promote(_ a: DType, _ b: DType) -> DType {
        if a == b { return a }
        if a.isFloatingPoint != b.isFloatingPoint { return a.isFloatingPoint ? a : b }
        let order: [DType] =
            a.isFloatingPoint ? [.float16, .bfloat16, .float32, .float64] : [.bool, .uint8, .int8, .int16, .int32, .int64]
        if Set([a, b]) == Set([.float16, .bfloat16]) { return .float32 }
        return order.firstIndex(of: a)! > order.firstIndex(of: b)! ? a : b
    }

    /// The dtype a scalar operand takes next to a tensor of dtype `tensor`.
    func scalarType(tensor: DType, scalar: TracedScalar, op: BinaryOperator, result: DType) -> DType {
        if Self.isLogical(op) { return .bool }
        guard Self.isComparison(op) else { return result }
        if tensor.isFloatingPoint { return tensor }
        if case .double = scalar { return .float32 }
        return tensor == .bool ? .int64 : tensor
    }

    /// `a op b` computed as PyTorch computes it, giving `result`.
    func binary(_ op: BinaryOperator, _ a: String, _ at: DType, _ b: String, _ bt: DType, result: DType) -> String {
        if Self.isLogical(op) {
            let name = op == .logicalAnd ? "And" : op == .logicalOr ? "Or" : "Xor"
            return self.op(name, cast(a, from: at, to: .bool), cast(b, from: bt, to: .bool))
        }
        if Self.isComparison(op) {
            var t = Self.promote(at, bt)
            // ONNX orders no booleans.
            if t == .bool && op != .eq && op != .ne { t = .int32 }
            let (x, y) = (cast(a, from: at, to: t), cast(b, from: bt, to: t))
            switch op {
            case .eq: return self.op("Equal", x, y)
            case .ne: return self.op("Not", self.op("Equal", x, y))
            case .lt: return self.op("Less", x, y)
            case .le: return self.op("LessOrEqual", x, y)
            case .gt: return self.op("Greater", x, y)
            default: return self.op("GreaterOrEqual", x, y)
            }
        }
        let (x, y) = (cast(a, from: at, to: result), cast(b, from: bt, to: result))
        switch op {
        case .add: return self.op("Add", x, y)
        case .sub: return self.op("Sub", x, y)
        case .mul: return self.op("Mul", x, y)
        case .div: return self.op("Div", x, y)
        case .divCorrectlyRounded:
            // A quotient computed in a type of more than twice the mantissa bits plus two and
            // rounded back equals the correctly rounded one (float32 in float64, float16 in
            // float32).
            let wide: DType? = result == .float32 ? .float64 : result == .float16 ? .float32 : nil
            guard let wide else { return self.op("Div", x, y) }
            let q = self.op("Div", cast(a, from: at, to: wide), cast(b, from: bt, to: wide))
            return cast(q, from: wide, to: result)
        case .pow: return self.op("Pow", x, y)
        case .maximum: return self.op("Max", x, y)
        case .minimum: return self.op("Min", x, y)
        case .remainder:
            // Python's modulo (the sign of the divisor).
            if !result.isFloatingPoint { return self.op("Mod", x, y, attributes: [.int("fmod", 0)]) }
            return self.op("Sub", x, self.op("Mul", self.op("Floor", self.op("Div", x, y)), y))
        case .floorDivide, .divFloor:
            if result.isFloatingPoint { return self.op("Floor", self.op("Div", x, y)) }
            let q = self.op("Floor", self.op("Div", cast(a, from: at, to: .float64), cast(b, from: bt, to: .float64)))
            return cast(q, from: .float64, to: result)
        case .divTrunc:
            if !result.isFloatingPoint { return self.op("Div", x, y) }
            return truncate(self.op("Div", x, y))
        default:
            problem("\(op) has no ONNX form here")
            return x
        }
    }

    /// Rounds toward zero: sign(x)·floor(|x|).
    func truncate(_ x: String) -> String { op("Mul", op("Sign", x), op("Floor", op("Abs", x))) }

    func unary(_ u: UnaryOperator, _ id: Int, result: DType) -> String {
        let boolResult: Set<UnaryOperator> = [.isnan, .isinf, .isfinite, .logicalNot]
        let x = boolResult.contains(u) ? name(id) : operand(id, as: result)
        let one = { self.scalar(1, result) }
        switch u {
        case .neg: return op("Neg", x)
        case .abs: return op("Abs", x)
        case .exp: return op("Exp", x)
        case .log: return op("Log", x)
        case .sqrt: return op("Sqrt", x)
        case .rsqrt: return op("Reciprocal", op("Sqrt", x))
        case .sin: return op("Sin", x)
        case .cos: return op("Cos", x)
        case .tanh: return op("Tanh", x)
        case .sigmoid: return op("Sigmoid", x)
        case .relu: return op("Relu", x)
        case .silu: return op("Mul", x, op("Sigmoid", x))
        case .gelu: return gelu(x, result)
        case .geluTanh:
            // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
            let cube = op("Mul", op("Mul", x, x), x)
            let inner = op("Mul", op("Add", x, op("Mul", cube, scalar(0.044715, result))), scalar((2 / Double.pi).squareRoot(), result))
            return op("Mul", op("Mul", x, scalar(0.5, result)), op("Add", op("Tanh", inner), one()))
        case .floor: return result.isFloatingPoint ? op("Floor", x) : x
        case .ceil: return result.isFloatingPoint ? op("Ceil", x) : x
        case .round: return result.isFloatingPoint ? op("Round", x) : x
        case .trunc: return result.isFloatingPoint ? truncate(x) : x
        case .sign: return op("Sign", x)
        case .logicalNot: return op("Not", cast(x, from: dtype(id), to: .bool))
        case .reciprocal: return op("Reciprocal", x)
        case .log1p: return op("Log", op("Add", x, one()))
        case .expm1: return op("Sub", op("Exp", x), one())
        case .isnan: return dtype(id).isFloatingPoint ? op("IsNaN", x) : constantFill(.int(0), shape(id), .bool)
        case .isinf: return dtype(id).isFloatingPoint ? op("IsInf", x) : constantFill(.int(0), shape(id), .bool)
        case .isfinite:
            return dtype(id).isFloatingPoint
                ? op("Not", op("Or", op("IsNaN", x), op("IsInf", x))) : constantFill(.int(1), shape(id), .bool)
        case .square: return op("Mul", x, x)
        case .atan: return op("Atan", x)
        case .log2: return op("Div", op("Log", x), scalar(Foundation.log(2.0), result))
        case .bitwiseNot: return result == .bool ? op("Not", x) : op("BitwiseNot", x)
        case .hardsigmoid: return op("HardSigmoid", x, attributes: [.float("alpha", 1.0 / 6), .float("beta", 0.5)])
        case .erf: return op("Erf", x)
        }
    }

    /// GELU, exact form: x·(1 + erf(x/√2))/2.
    func gelu(_ x: String, _ dtype: DType) -> String {
        let e = op("Erf", op("Div", x, scalar(2.0.squareRoot(), dtype)))
        return op("Mul", op("Mul", x, op("Add", e, scalar(1, dtype))), scalar(0.5, dtype))
    }

    /// A reduction over `axes` (all when empty); opsets from 18 take the axes as an input.
    func reduceOp(_ opType: String, _ x: String, axes: [Int], keepDim: Bool) -> String {
        var inputs = [x]
        var attributes: [Onnx_AttributeProto] = [.int("keepdims", keepDim ? 1 : 0)]
        if !axes.isEmpty {
            if opType == "ReduceSum" || opset >= 18 {
                inputs.append(ints(axes))
            } else {
                attributes.append(.ints("axes", axes))
            }
        }
        return emit(opType, inputs, attributes: attributes)[0]
    }

    func reduce(_ r: ReduceOperator, _ id: Int, dims: [Int], keepDim: Bool, result: DType) -> String {
        switch r {
        case .sum: return reduceOp("ReduceSum", operand(id, as: result), axes: dims, keepDim: keepDim)
        case .mean: return reduceOp("ReduceMean", operand(id, as: result), axes: dims, keepDim: keepDim)
        case .prod: return reduceOp("ReduceProd", operand(id, as: result), axes: dims, keepDim: keepDim)
        case .amax: return reduceOp("ReduceMax", name(id), axes: dims, keepDim: keepDim)
        case .amin: return reduceOp("ReduceMin", name(id), axes: dims, keepDim: keepDim)
        case .any, .all:
            let v = operand(id, as: .int32)
            let m = reduceOp(r == .any ? "ReduceMax" : "ReduceMin", v, axes: dims, keepDim: keepDim)
            return cast(m, from: .int32, to: .bool)
        case .norm2: return reduceOp("ReduceL2", operand(id, as: result), axes: dims, keepDim: keepDim)
        case .logsumexp: return reduceOp("ReduceLogSumExp", operand(id, as: result), axes: dims, keepDim: keepDim)
        case .nansum:
            let v = operand(id, as: result)
            let clean = op("Where", op("IsNaN", v), scalar(0, result), v)
            return reduceOp("ReduceSum", clean, axes: dims, keepDim: keepDim)
        }
    }

    /// `self[i0, i1, ...]` for the forms with static shapes: one int64 index tensor, the other
    /// dimensions whole.
    func lowerIndex(_ ins: [Int?], out: Int) {
        let indices = Array(ins.dropFirst())
        let given = indices.enumerated().filter { $0.element != nil }
        guard given.count == 1, let d = given.first?.offset, let index = given.first?.element, dtype(index) == .int64
        else {
            return problem("indexing with \(given.count) index tensors or a mask (shape \(shape(out)))")
        }
        bind(out, to: op("Gather", name(ins[0]!), name(index), attributes: [.int("axis", d)]))
    }

    /// `F.interpolate`: nearest as index gathers (the source indices PyTorch computes, as
    /// constants), bilinear as `Resize`.
    func interpolate(_ id: Int, size: [Int], mode: InterpolationMode, alignCorners: Bool, result: [Int]) -> String {
        let s = shape(id)
        let (h, w) = (s[s.count - 2], s[s.count - 1])
        switch mode {
        case .nearest:
            func sources(_ input: Int, _ output: Int) -> [Int] {
                let scale = Float(input) / Float(output)
                return (0..<output).map { Swift.min(Int((Float($0) * scale).rounded(.down)), input - 1) }
            }
            var v = name(id)
            if size[0] != h { v = op("Gather", v, ints(sources(h, size[0])), attributes: [.int("axis", s.count - 2)]) }
            if size[1] != w { v = op("Gather", v, ints(sources(w, size[1])), attributes: [.int("axis", s.count - 1)]) }
            return v
        case .bilinear:
            return emit(
                "Resize", [name(id), "", "", ints(result)],
                attributes: [
                    .string("mode", "linear"),
                    .string("coordinate_transformation_mode", alignCorners ? "align_corners" : "pytorch_half_pixel"),
                ])[0]
        case .bicubic:
            return emit(
                "Resize", [name(id), "", "", ints(result)],
                attributes: [
                    .string("mode", "cubic"), .float("cubic_coeff_a", -0.75),
                    .string("coordinate_transformation_mode", alignCorners ? "align_corners" : "pytorch_half_pixel"),
                ])[0]
        case .bilinearAntialias:
            problem("antialiased resizing")
            return name(id)
        }
    }

    /// Layer normalisation over the last `axes` dimensions.
    func layerNorm(_ id: Int, axes: Int, weight: Int?, bias: Int?, eps: Double, result: DType) -> String {
        let x = operand(id, as: result)
        let normalized = Array(shape(id).suffix(axes))
        if opset >= 17 {
            let w = weight.map { operand($0, as: result) } ?? constantFill(1, normalized, result)
            var inputs = [x, w]
            if let bias { inputs.append(operand(bias, as: result)) }
            return emit(
                "LayerNormalization", inputs, attributes: [.int("axis", -axes), .float("epsilon", eps)])[0]
        }
        let dims = Array((shape(id).count - axes)..<shape(id).count)
        var y = normalize(x, axes: dims, eps: eps, dtype: result)
        if let weight { y = op("Mul", y, operand(weight, as: result)) }
        if let bias { y = op("Add", y, operand(bias, as: result)) }
        return y
    }

    /// (x − mean)/√(var + eps) over `axes` (biased variance).
    func normalize(_ x: String, axes: [Int], eps: Double, dtype: DType) -> String {
        let centred = op("Sub", x, reduceOp("ReduceMean", x, axes: axes, keepDim: true))
        let variance = reduceOp("ReduceMean", op("Mul", centred, centred), axes: axes, keepDim: true)
        return op("Div", centred, op("Sqrt", op("Add", variance, scalar(eps, dtype))))
    }

    /// Group normalisation of [B, C, ...]: statistics per image and group of C/groups channels.
    func groupNorm(_ id: Int, groups: Int, weight: Int?, bias: Int?, eps: Double, result: DType) -> String {
        let s = shape(id)
        let x = op("Reshape", operand(id, as: result), ints([s[0], groups, -1]))
        var y = op("Reshape", normalize(x, axes: [2], eps: eps, dtype: result), ints(s))
        let affine = [s[1]] + Array(repeating: 1, count: s.count - 2)
        if let weight { y = op("Mul", y, op("Reshape", operand(weight, as: result), ints(affine))) }
        if let bias { y = op("Add", y, op("Reshape", operand(bias, as: result), ints(affine))) }
        return y
    }

    /// softmax(q·kᵀ·scale + mask)·v; a boolean mask is true where attending is allowed.
    func attention(q: Int, k: Int, v: Int, mask: Int?, scale: Double, result: DType) -> String {
        let rank = shape(k).count
        var perm = Array(0..<rank)
        perm.swapAt(rank - 1, rank - 2)
        var logits = op(
            "Mul", op("MatMul", name(q), op("Transpose", name(k), attributes: [.ints("perm", perm)])),
            scalar(scale, result))
        if let mask {
            if dtype(mask) == .bool {
                logits = op("Where", name(mask), logits, scalar(-Double.infinity, result))
            } else {
                logits = op("Add", logits, operand(mask, as: result))
            }
        }
        return op("MatMul", op("Softmax", logits, attributes: [.int("axis", -1)]), name(v))
    }

    /// Per-row, per-group greedy NMS as ONNX's `NonMaxSuppression` (one class): boxes of group g
    /// are moved by g·(extent + 1) so that groups never overlap (torchvision's `batched_nms`),
    /// and the selected (row, box) pairs are scattered into a [B, K] mask.
    func nonMaximumSuppression(boxes: Int, scores: Int, groups: Int, iouThreshold: Double) -> String {
        let (b, k) = (shape(scores)[0], shape(scores)[1])
        let bx = operand(boxes, as: .float32)
        let extent = op("Add", op("Sub", reduceOp("ReduceMax", bx, axes: [], keepDim: false),
            reduceOp("ReduceMin", bx, axes: [], keepDim: false)), scalar(1, .float32))
        let offset = op("Mul", operand(groups, as: .float32), extent)  // [B, K]
        let moved = op("Add", bx, op("Unsqueeze", offset, ints([2])))
        let s = op("Unsqueeze", operand(scores, as: .float32), ints([1]))  // [B, 1, K]
        var threshold = Onnx_TensorProto()
        threshold.dataType = ONNXTensor.dataType(.float32)
        threshold.dims = [1]
        threshold.rawData = withUnsafeBytes(of: Float(iouThreshold)) { Data($0) }
        let selected = emit(
            "NonMaxSuppression",
            [moved, s, ints([k]), constant(key: "nms-threshold:\(iouThreshold)", threshold)])[0]  // [M, 3]
        let pairs = op("Gather", selected, ints([0, 2]), attributes: [.int("axis", 1)])  // [M, 2]
        let ones = op("Add", op("Mul", op("Gather", selected, intScalar(0), attributes: [.int("axis", 1)]), intScalar(0)), intScalar(1))
        let mask = op("ScatterND", constantFill(.int(0), [b, k], .int64), pairs, ones)
        return cast(mask, from: .int64, to: .bool)
    }
}
