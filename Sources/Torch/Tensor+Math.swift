import CTorch

/// Unary elementwise operations of the shim (`CT_NEG`...).
@usableFromInline enum UnaryOp: Int32 {
    case neg = 0, abs, exp, log, sqrt, rsqrt, sin, cos, tanh, sigmoid
    case relu, silu, gelu, geluTanh, floor, ceil, round, sign, logicalNot
    case reciprocal, log1p, expm1, isnan, isinf, isfinite, square, trunc
    case atan, log2, bitwiseNot, hardsigmoid, erf
}

extension Tensor {
    @usableFromInline func unary(_ op: UnaryOp) -> Tensor {
        Tensor(checking: ct_unary(op.rawValue, handle)).traced(.unary(UnaryOperator(rawValue: op.rawValue)!), [self])
    }

    public func abs() -> Tensor { unary(.abs) }
    public func exp() -> Tensor { unary(.exp) }
    public func log() -> Tensor { unary(.log) }
    public func log1p() -> Tensor { unary(.log1p) }
    public func log2() -> Tensor { unary(.log2) }
    public func expm1() -> Tensor { unary(.expm1) }
    public func sqrt() -> Tensor { unary(.sqrt) }
    public func rsqrt() -> Tensor { unary(.rsqrt) }
    public func square() -> Tensor { unary(.square) }
    public func reciprocal() -> Tensor { unary(.reciprocal) }
    public func sin() -> Tensor { unary(.sin) }
    public func cos() -> Tensor { unary(.cos) }
    public func atan() -> Tensor { unary(.atan) }
    public func erf() -> Tensor { unary(.erf) }
    public func floor() -> Tensor { unary(.floor) }
    public func ceil() -> Tensor { unary(.ceil) }
    /// Rounds half to even, like `torch.round`.
    public func round() -> Tensor { unary(.round) }
    public func trunc() -> Tensor { unary(.trunc) }
    public func sign() -> Tensor { unary(.sign) }
    public func isNaN() -> Tensor { unary(.isnan) }
    public func isInf() -> Tensor { unary(.isinf) }
    public func isFinite() -> Tensor { unary(.isfinite) }
    public func logicalNot() -> Tensor { unary(.logicalNot) }
    public func bitwiseNot() -> Tensor { unary(.bitwiseNot) }

    // MARK: activations
    public func relu() -> Tensor { unary(.relu) }
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    public func tanh() -> Tensor { unary(.tanh) }
    public func silu() -> Tensor { unary(.silu) }
    /// GELU, exact (erf) form by default, tanh approximation when `approximate` is true.
    public func gelu(approximate: Bool = false) -> Tensor { unary(approximate ? .geluTanh : .gelu) }
    public func hardsigmoid() -> Tensor { unary(.hardsigmoid) }
    public func leakyRelu(_ slope: Double = 0.01) -> Tensor {
        Tensor(checking: ct_leaky_relu(handle, slope)).traced(.leakyRelu(slope), [self])
    }
    public func softmax(dim: Int) -> Tensor {
        Tensor(checking: ct_softmax(handle, Int64(dim))).traced(.softmax(dim: dim), [self])
    }
    public func logSoftmax(dim: Int) -> Tensor {
        Tensor(checking: ct_log_softmax(handle, Int64(dim))).traced(.logSoftmax(dim: dim), [self])
    }

    public func clamp(min: Double? = nil, max: Double? = nil) -> Tensor {
        Tensor(checking: ct_clamp(handle, min != nil, min ?? 0, max != nil, max ?? 0))
            .traced(.clamp(min: min, max: max), [self])
    }

    /// Inverse of sigmoid with the clamping DETR code uses: log(x / (1 - x)) on x clamped to [eps, 1-eps].
    public func inverseSigmoid(eps: Double = 1e-5) -> Tensor {
        let x = clamp(min: 0, max: 1)
        let x1 = x.clamp(min: eps)
        let x2 = (1 - x).clamp(min: eps)
        return (x1 / x2).log()
    }

    /// Elementwise selection: `condition ? a : b`.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        Tensor(checking: ct_where(condition.handle, a.handle, b.handle)).traced(.where, [condition, a, b])
    }

    /// Copy with positions where `mask` is true set to `value`.
    public func maskedFill(_ mask: Tensor, _ value: some TensorScalar) -> Tensor {
        Tensor(checking: ct_masked_fill(handle, mask.handle, value.ctScalar))
            .traced(.maskedFill(TracedScalar(value.ctScalar)), [self, mask])
    }

    /// self + weight * (end - self)
    public func lerp(_ end: Tensor, weight: Double) -> Tensor {
        Tensor(checking: ct_lerp(handle, end.handle, weight)).traced(.lerp(weight: weight), [self, end])
    }
}
