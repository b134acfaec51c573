import CTorch

/// A scalar operand as an operator received it: integral or floating (PyTorch promotes
/// differently for the two).
public enum TracedScalar: Sendable, Equatable {
    case int(Int64)
    case double(Double)

    init(_ s: ct_scalar) { self = s.is_int != 0 ? .int(s.i) : .double(s.d) }

    public var doubleValue: Double {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        }
    }
}

/// One recorded operator call of the Torch layer, with the arguments that are not tensors.
/// Tensor operands, results and their shapes and dtypes are in the `OperationTrace` node that
/// holds it. Shape arguments are not kept where the result's shape says everything (`view`,
/// `reshape`, `squeeze`, `expand`... are `.reshape` or `.expand` of the recorded result shape).
public enum TracedOp: Sendable {
    // Elementwise
    case binary(BinaryOperator)
    /// `tensor op scalar`, or `scalar op tensor` when `scalarFirst`.
    case binaryScalar(BinaryOperator, TracedScalar, scalarFirst: Bool)
    case unary(UnaryOperator)
    case leakyRelu(Double)
    case clamp(min: Double?, max: Double?)
    /// Inputs: condition, a, b.
    case `where`
    /// Inputs: self, mask.
    case maskedFill(TracedScalar)
    case lerp(weight: Double)
    /// Inputs: self, a, b: self + value·a·b.
    case addcmul(value: Double)
    /// Inputs: self, other: self + alpha·other.
    case addScaled(alpha: Double)
    case softmax(dim: Int)
    case logSoftmax(dim: Int)

    // Reductions and ranking
    case reduce(ReduceOperator, dims: [Int], keepDim: Bool)
    case variance(dims: [Int], correction: Int, keepDim: Bool, std: Bool)
    /// Outputs: values, indices.
    case maxDim(dim: Int, keepDim: Bool, isMax: Bool)
    case argmax(dim: Int?, keepDim: Bool, isMax: Bool)
    case cumsum(dim: Int)
    case cumprod(dim: Int)
    /// Outputs: values, indices.
    case topk(k: Int, dim: Int, largest: Bool, sorted: Bool)
    /// Outputs: values, indices (argsort records only the indices: `indicesOnly`).
    case sort(dim: Int, descending: Bool, stable: Bool, indicesOnly: Bool)

    // Shape (views and copies alike: the result shape is recorded)
    /// Any change of shape that keeps the row-major order of the elements.
    case reshape
    case permute([Int])
    case expand
    case `repeat`([Int])
    case repeatInterleave(repeats: Int, dim: Int)
    case flip([Int])
    case roll(shift: Int, dim: Int)
    case triangle(diagonal: Int, upper: Bool)
    case cat(dim: Int)
    case stack(dim: Int)
    case slice(dim: Int, start: Int, end: Int, step: Int)
    case select(dim: Int, index: Int)
    case asStrided
    /// `meshgrid(a, b, indexing: "ij")`: outputs a and b broadcast over [a.count, b.count].
    case meshgrid

    // Indexing
    case indexSelect(dim: Int)
    case gather(dim: Int)
    /// Inputs: self, index, src.
    case scatter(dim: Int, add: Bool)
    /// Inputs: self, index, source.
    case indexAdd(dim: Int)
    case maskedSelect
    case nonzero
    /// Inputs: self, then the index tensors (nil for a whole dimension).
    case index
    /// Inputs: self, values, then the index tensors (nil for a whole dimension).
    case indexPut(accumulate: Bool)

    // Linear algebra
    case matmul
    case bmm
    /// Inputs: self, a, b.
    case baddbmm(beta: Double, alpha: Double)
    /// Inputs: x, weight, bias (optional). `activation`: nil, "relu" or "gelu".
    case linear(activation: String?)
    case einsum(String)
    case cdist(p: Double)

    // Neural-network functions
    /// Inputs: x, weight, bias (optional).
    case conv2d(stride: [Int], padding: [Int], dilation: [Int], groups: Int)
    case maxPool2d(kernel: [Int], stride: [Int], padding: [Int], dilation: [Int], ceilMode: Bool)
    case avgPool2d(kernel: [Int], stride: [Int], padding: [Int])
    case adaptiveAvgPool2d(outputSize: [Int])
    case interpolate(size: [Int], mode: InterpolationMode, alignCorners: Bool)
    /// Inputs: x, grid.
    case gridSample(nearest: Bool, padding: GridSamplePadding, alignCorners: Bool)
    /// Inputs: x, weight (optional), bias (optional).
    case layerNorm(normalizedShape: [Int], eps: Double)
    case groupNorm(groups: Int, eps: Double)
    /// Inputs: x, weight, bias, running mean, running var (each optional).
    case batchNorm(training: Bool, eps: Double)
    case dropout(p: Double, training: Bool)
    /// Inputs: indices, weight.
    case embedding
    case oneHot(numClasses: Int)
    case pad([Int], value: Double)
    case pixelShuffle(factor: Int)
    /// Inputs: q, k, v, mask (optional).
    case scaledDotProductAttention(scale: Double)
    /// Inputs: boxes [B, K, 4], scores [B, K], groups [B, K]; output: kept [B, K] bool.
    case nonMaximumSuppression(iouThreshold: Double)

    // Conversions and creation
    /// Inputs: self, src: `src` broadcast to self's shape and cast to its dtype (`copy_`).
    case copy
    case cast(DType)
    /// `contiguous`, `clone`, `detach`, a move between devices: the same values.
    case identity
    /// A tensor of the recorded shape and dtype filled with one value.
    case full(TracedScalar)
    /// A tensor whose values do not depend on anything traced (`Tensor([...])`, `arange`,
    /// `linspace`, `eye`): the node keeps the tensor itself.
    case constant
    /// Operators no export supports (random draws, losses, gradients...): recorded so that
    /// their use is reported by name.
    case unsupported(String)

    /// Operator name for messages.
    public var name: String {
        switch self {
        case .binary(let op): "\(op)"
        case .binaryScalar(let op, _, _): "\(op) (scalar)"
        case .unary(let op): "\(op)"
        case .unsupported(let name): name
        default: String(describing: self).prefix { $0 != "(" }.description
        }
    }
}

/// Elementwise binary operators (PyTorch broadcasting and type promotion); raw values are the
/// shim's codes, except for those only a recording tells apart.
public enum BinaryOperator: Int32, Sendable {
    case add = 0, sub, mul, div, pow, remainder, floorDivide, maximum, minimum
    case eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalXor, atan2, divTrunc, divFloor
    /// `div` whose recording must round as libtorch does in every runtime
    /// (`Tensor.dividedCorrectlyRounded(by:)`); libtorch computes it as `div`.
    case divCorrectlyRounded = 1000
}

/// Elementwise unary operators.
public enum UnaryOperator: Int32, Sendable {
    case neg = 0, abs, exp, log, sqrt, rsqrt, sin, cos, tanh, sigmoid
    case relu, silu, gelu, geluTanh, floor, ceil, round, sign, logicalNot
    case reciprocal, log1p, expm1, isnan, isinf, isfinite, square, trunc
    case atan, log2, bitwiseNot, hardsigmoid, erf
}

/// Reductions.
public enum ReduceOperator: Int32, Sendable {
    case sum = 0, mean, prod, amax, amin, any, all, norm2, logsumexp, nansum
}
