import CTorch

/// Binary elementwise operations of the shim (`CT_ADD`...).
@usableFromInline enum BinaryOp: Int32 {
    case add = 0, sub, mul, div, pow, remainder, floorDivide, maximum, minimum
    case eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalXor, atan2, divTrunc, divFloor

    @usableFromInline var traced: BinaryOperator { BinaryOperator(rawValue: rawValue)! }
}

extension Tensor {
    @usableFromInline func binary(_ op: BinaryOp, _ other: Tensor) -> Tensor {
        Tensor(checking: ct_binary(op.rawValue, handle, other.handle)).traced(.binary(op.traced), [self, other])
    }
    @usableFromInline func binary(_ op: BinaryOp, _ s: some TensorScalar) -> Tensor {
        Tensor(checking: ct_binary_scalar(op.rawValue, handle, s.ctScalar))
            .traced(.binaryScalar(op.traced, TracedScalar(s.ctScalar), scalarFirst: false), [self])
    }
    @usableFromInline static func binary(_ op: BinaryOp, _ s: some TensorScalar, _ t: Tensor) -> Tensor {
        Tensor(checking: ct_scalar_binary(op.rawValue, s.ctScalar, t.handle))
            .traced(.binaryScalar(op.traced, TracedScalar(s.ctScalar), scalarFirst: true), [t])
    }

    // MARK: arithmetic (broadcasting, PyTorch type promotion)
    public static func + (a: Tensor, b: Tensor) -> Tensor { a.binary(.add, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.binary(.sub, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.binary(.mul, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.binary(.div, b) }
    public static func + <S: TensorScalar>(a: Tensor, b: S) -> Tensor { a.binary(.add, b) }
    public static func - <S: TensorScalar>(a: Tensor, b: S) -> Tensor { a.binary(.sub, b) }
    public static func * <S: TensorScalar>(a: Tensor, b: S) -> Tensor { a.binary(.mul, b) }
    public static func / <S: TensorScalar>(a: Tensor, b: S) -> Tensor { a.binary(.div, b) }
    public static func + <S: TensorScalar>(a: S, b: Tensor) -> Tensor { binary(.add, a, b) }
    public static func - <S: TensorScalar>(a: S, b: Tensor) -> Tensor { binary(.sub, a, b) }
    public static func * <S: TensorScalar>(a: S, b: Tensor) -> Tensor { binary(.mul, a, b) }
    public static func / <S: TensorScalar>(a: S, b: Tensor) -> Tensor { binary(.div, a, b) }
    public static prefix func - (a: Tensor) -> Tensor { a.unary(.neg) }

    public func pow(_ e: Tensor) -> Tensor { binary(.pow, e) }
    public func pow(_ e: some TensorScalar) -> Tensor { binary(.pow, e) }
    public func remainder(_ d: some TensorScalar) -> Tensor { binary(.remainder, d) }
    public func remainder(_ d: Tensor) -> Tensor { binary(.remainder, d) }
    /// Division rounded toward negative infinity (`torch.div(a, b, rounding_mode="floor")`).
    public func floorDivide(_ d: some TensorScalar) -> Tensor { binary(.divFloor, d) }
    public func floorDivide(_ d: Tensor) -> Tensor { binary(.divFloor, d) }
    /// `self / d`, which libtorch rounds correctly; an ONNX recording computes it one precision
    /// higher and rounds back, so that it is correctly rounded in runtimes whose float32 division
    /// multiplies by the divisor's rounded reciprocal (OpenVINO's CPU plugin: one unit in the
    /// last place off). For quotients where that unit matters downstream, such as angles of
    /// millions of radians; other divisions record as `/`.
    public func dividedCorrectlyRounded(by d: Tensor) -> Tensor {
        Tensor(checking: ct_binary(BinaryOp.div.rawValue, handle, d.handle))
            .traced(.binary(.divCorrectlyRounded), [self, d])
    }
    /// Division rounded toward zero (`rounding_mode="trunc"`).
    public func truncDivide(_ d: some TensorScalar) -> Tensor { binary(.divTrunc, d) }
    public func maximum(_ o: Tensor) -> Tensor { binary(.maximum, o) }
    public func minimum(_ o: Tensor) -> Tensor { binary(.minimum, o) }
    public func atan2(_ o: Tensor) -> Tensor { binary(.atan2, o) }

    // MARK: comparison (bool results)
    public static func .== (a: Tensor, b: Tensor) -> Tensor { a.binary(.eq, b) }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { a.binary(.ne, b) }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { a.binary(.lt, b) }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { a.binary(.le, b) }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { a.binary(.gt, b) }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { a.binary(.ge, b) }
    public static func .== <S: TensorScalar>(a: Tensor, b: S) -> Tensor { a.binary(.eq, b) }
    public static func .!= <S: TensorScalar>(a: Tensor, b: S) -> Tensor { a.binary(.ne, b) }
    public static func .< <S: TensorScalar>(a: Tensor, b: S) -> Tensor { a.binary(.lt, b) }
    public static func .<= <S: TensorScalar>(a: Tensor, b: S) -> Tensor { a.binary(.le, b) }
    public static func .> <S: TensorScalar>(a: Tensor, b: S) -> Tensor { a.binary(.gt, b) }
    public static func .>= <S: TensorScalar>(a: Tensor, b: S) -> Tensor { a.binary(.ge, b) }

    // MARK: logical
    public static func .& (a: Tensor, b: Tensor) -> Tensor { a.binary(.logicalAnd, b) }
    public static func .| (a: Tensor, b: Tensor) -> Tensor { a.binary(.logicalOr, b) }
    public static func .^ (a: Tensor, b: Tensor) -> Tensor { a.binary(.logicalXor, b) }
    public static prefix func .! (a: Tensor) -> Tensor { a.unary(.logicalNot) }

    // MARK: in place (for optimizers and buffers; use under `withNoGrad` on leaves)
    @discardableResult public func add_(_ o: Tensor, alpha: Double = 1) -> Tensor {
        Tensor(
            checking: alpha == 1
                ? ct_inplace_binary(BinaryOp.add.rawValue, handle, o.handle)
                : ct_add_scaled_(handle, o.handle, alpha)
        ).tracedInPlace(alpha == 1 ? .binary(.add) : .addScaled(alpha: alpha), on: self, [self, o])
    }
    @discardableResult public func sub_(_ o: Tensor) -> Tensor {
        Tensor(checking: ct_inplace_binary(BinaryOp.sub.rawValue, handle, o.handle))
            .tracedInPlace(.binary(.sub), on: self, [self, o])
    }
    @discardableResult public func mul_(_ o: Tensor) -> Tensor {
        Tensor(checking: ct_inplace_binary(BinaryOp.mul.rawValue, handle, o.handle))
            .tracedInPlace(.binary(.mul), on: self, [self, o])
    }
    @discardableResult public func div_(_ o: Tensor) -> Tensor {
        Tensor(checking: ct_inplace_binary(BinaryOp.div.rawValue, handle, o.handle))
            .tracedInPlace(.binary(.div), on: self, [self, o])
    }
    @discardableResult public func add_(_ s: some TensorScalar) -> Tensor {
        Tensor(checking: ct_inplace_binary_scalar(BinaryOp.add.rawValue, handle, s.ctScalar))
            .tracedInPlace(.binaryScalar(.add, TracedScalar(s.ctScalar), scalarFirst: false), on: self, [self])
    }
    @discardableResult public func sub_(_ s: some TensorScalar) -> Tensor {
        Tensor(checking: ct_inplace_binary_scalar(BinaryOp.sub.rawValue, handle, s.ctScalar))
            .tracedInPlace(.binaryScalar(.sub, TracedScalar(s.ctScalar), scalarFirst: false), on: self, [self])
    }
    @discardableResult public func mul_(_ s: some TensorScalar) -> Tensor {
        Tensor(checking: ct_inplace_binary_scalar(BinaryOp.mul.rawValue, handle, s.ctScalar))
            .tracedInPlace(.binaryScalar(.mul, TracedScalar(s.ctScalar), scalarFirst: false), on: self, [self])
    }
    @discardableResult public func div_(_ s: some TensorScalar) -> Tensor {
        Tensor(checking: ct_inplace_binary_scalar(BinaryOp.div.rawValue, handle, s.ctScalar))
            .tracedInPlace(.binaryScalar(.div, TracedScalar(s.ctScalar), scalarFirst: false), on: self, [self])
    }
    /// self += value * a * b
    @discardableResult public func addcmul_(_ a: Tensor, _ b: Tensor, value: Double = 1) -> Tensor {
        Tensor(checking: ct_addcmul_(handle, a.handle, b.handle, value))
            .tracedInPlace(.addcmul(value: value), on: self, [self, a, b])
    }
    /// self += value * a / b
    @discardableResult public func addcdiv_(_ a: Tensor, _ b: Tensor, value: Double = 1) -> Tensor {
        Tensor(checking: ct_addcdiv_(handle, a.handle, b.handle, value))
            .tracedInPlace(.unsupported("addcdiv_"), on: self, [self, a, b])
    }
    /// Copies `src` (broadcast, cast) into self.
    @discardableResult public func copy_(_ src: Tensor) -> Tensor {
        Tensor(checking: ct_copy_(handle, src.handle)).tracedInPlace(.copy, on: self, [self, src])
    }
    @discardableResult public func fill_(_ v: some TensorScalar) -> Tensor {
        Tensor(checking: ct_fill_(handle, v.ctScalar)).tracedInPlace(.full(TracedScalar(v.ctScalar)), on: self, [])
    }
    @discardableResult public func zero_() -> Tensor {
        Tensor(checking: ct_zero_(handle)).tracedInPlace(.full(.int(0)), on: self, [])
    }
    @discardableResult public func maskedFill_(_ mask: Tensor, _ v: some TensorScalar) -> Tensor {
        Tensor(checking: ct_masked_fill_(handle, mask.handle, v.ctScalar))
            .tracedInPlace(.maskedFill(TracedScalar(v.ctScalar)), on: self, [self, mask])
    }
    /// In-place ReLU (`relu_`).
    @discardableResult public func relu_() -> Tensor {
        Tensor(checking: ct_relu_(handle)).tracedInPlace(.unary(.relu), on: self, [self])
    }
    /// self + value·a·b (broadcast) in one pass (`torch.addcmul`).
    public func addcmul(_ a: Tensor, _ b: Tensor, value: Double = 1) -> Tensor {
        Tensor(checking: ct_addcmul(handle, a.handle, b.handle, value)).traced(.addcmul(value: value), [self, a, b])
    }
    @discardableResult public func clamp_(min: Double? = nil, max: Double? = nil) -> Tensor {
        Tensor(checking: ct_clamp_(handle, min != nil, min ?? 0, max != nil, max ?? 0))
            .tracedInPlace(.clamp(min: min, max: max), on: self, [self])
    }
}
