import TestSupport
import Testing
import Torch

/// Elementwise arithmetic, comparisons, broadcasting and type promotion against PyTorch.
@Suite struct OpsArithmeticTests {
    /// Promotion of `tensor op swift-number` follows `tensor op python-number`: the number
    /// does not upcast within a category (int64 + 2.5 -> float32, float16 * 2.5 -> float16).
    @Test func typePromotionWithScalarsAndTensors() throws {
        let i64 = Tensor([1, 2, 3])
        let i32 = Tensor([1, 2, 3] as [Int32])
        let u8 = Tensor([250, 3] as [UInt8])
        let f16 = Tensor([1.5, -2.0] as [Float]).to(.float16)
        let bf16 = Tensor([1.5, -2.0] as [Float]).to(.bfloat16)
        let f32 = Tensor([1.5, 2.5] as [Float])
        let f64 = Tensor([1.5, 2.5] as [Double])
        let b = Tensor([true, false])
        try check(i64 + 2.5, "promo.i64_plus_float")
        try check(i32 * 2, "promo.i32_times_int")
        try check(u8 + 10, "promo.u8_plus_int")  // wraps like uint8 arithmetic
        try check(f16 * 2.5, "promo.f16_times_float")
        try check(bf16 + 0.25, "promo.bf16_plus_float")
        try check(b + 1, "promo.bool_plus_int")
        try check(i64 / 2, "promo.i64_div_int")  // true division
        try check(f32 + Tensor(scalar: 1.25), "promo.f32_plus_f64_0d")
        try check(f32 + Tensor([1.25] as [Double]), "promo.f32_plus_f64_1d")
        try check(i32 + i64, "promo.i32_plus_i64")
        try check(u8 + Tensor([1, -1] as [Int8]), "promo.u8_plus_i8")
        try check(f64 * 0.1, "promo.f64_times_float", atol: 0, rtol: 0)
        try check(f16 + f32, "promo.f16_plus_f32")
        try check(10 - i32, "promo.int_rsub_i32")
        try check(3 / i64, "promo.float_rdiv_i64")
        try check(i64.pow(2), "promo.i64_pow_int")
        try check(i64 .== 2.0, "promo.i64_eq_float")
        try check(i32 .< 2.5, "promo.i32_lt_float")
        try check(i64[0..<2] * b, "promo.i64_mul_bool_tensor")
        let n = Tensor([-7, 7, -8])
        try check(n.floorDivide(2), "promo.floor_divide")
        try check(n.truncDivide(2), "promo.trunc_divide")
        try check(n.remainder(3), "promo.remainder_int")
        try check(Tensor([-7.5, 7.5] as [Float]).remainder(2), "promo.remainder_float")
    }

    @Test func binaryOpsAndBroadcasting() throws {
        let a = try Ref.get("arith.a"), b = try Ref.get("arith.b"), c = try Ref.get("arith.c")
        let pos = try Ref.get("arith.pos"), d = try Ref.get("arith.d")
        try check(a + b, "arith.add")
        try check(a - b, "arith.sub")
        try check(a * b, "arith.mul")
        try check(a / d, "arith.div")
        try check(a + c, "arith.broadcast")  // [3,4] + [2,1,4] -> [2,3,4]
        try check(pos.pow(b), "arith.pow")
        try check(pos.pow(2.5), "arith.pow_float")
        try check(a.pow(2), "arith.pow_int")
        try check(a.maximum(b), "arith.maximum")
        try check(a.minimum(b), "arith.minimum")
        try check(a.atan2(b.expand([3, 4])), "arith.atan2")
        try check(a + 2, "arith.add_s")
        try check(a - 0.5, "arith.sub_s")
        try check(a * 3, "arith.mul_s")
        try check(a / 4, "arith.div_s")
        try check(1.5 + a, "arith.radd")
        try check(2 - a, "arith.rsub")
        try check(2 * a, "arith.rmul")
        try check(3 / pos, "arith.rdiv")
        try check(-a, "arith.neg")
        try check(a.lerp(b.expand([3, 4]), weight: 0.3), "arith.lerp")
    }

    @Test func comparisonsAndLogic() throws {
        let a = try Ref.get("arith.a"), b = try Ref.get("arith.b")
        try check(a .== a.round(), "arith.eq")
        try check(a .!= b, "arith.ne")
        try check(a .< b, "arith.lt")
        try check(a .<= b, "arith.le")
        try check(a .> b, "arith.gt")
        try check(a .>= 0.0, "arith.ge")
        let m1 = a .> 0, m2 = b .> 0
        try check(m1 .& m2, "arith.and")
        try check(m1 .| m2, "arith.or")
        try check(m1 .^ m2, "arith.xor")
        try check(.!m1, "arith.not")
        let special = try Ref.get("arith.special")
        try check(special.isNaN(), "arith.isnan")
        try check(special.isInf(), "arith.isinf")
        try check(special.isFinite(), "arith.isfinite")
    }

    @Test func unaryMath() throws {
        let a = try Ref.get("arith.a"), pos = try Ref.get("arith.pos")
        let onA: [(String, (Tensor) -> Tensor)] = [
            ("abs", { $0.abs() }), ("exp", { $0.exp() }), ("sin", { $0.sin() }), ("cos", { $0.cos() }),
            ("tanh", { $0.tanh() }), ("floor", { $0.floor() }), ("ceil", { $0.ceil() }), ("trunc", { $0.trunc() }),
            ("sign", { $0.sign() }), ("expm1", { $0.expm1() }), ("erf", { $0.erf() }), ("atan", { $0.atan() }),
            ("square", { $0.square() }),
        ]
        for (name, f) in onA { try check(f(a), "arith.\(name)") }
        let onPos: [(String, (Tensor) -> Tensor)] = [
            ("log", { $0.log() }), ("sqrt", { $0.sqrt() }), ("rsqrt", { $0.rsqrt() }),
            ("reciprocal", { $0.reciprocal() }), ("log1p", { $0.log1p() }), ("log2", { $0.log2() }),
        ]
        for (name, f) in onPos { try check(f(pos), "arith.\(name)") }
        try check(Ref.get("arith.round.x").round(), "arith.round", atol: 0, rtol: 0)  // half to even
        try check(a.clamp(min: -0.5, max: 0.5), "arith.clamp")
        try check(a.clamp(min: 0), "arith.clamp_min")
        try check(a.clamp(max: 0.2), "arith.clamp_max")
        try check(Ref.get("arith.inverse_sigmoid.x").inverseSigmoid(), "arith.inverse_sigmoid")
        try check(Tensor([0, 5, -3] as [Int32]).bitwiseNot(), "arith.bitwise_not")
    }

    @Test func inPlaceOps() throws {
        let a = try Ref.get("arith.a"), b = try Ref.get("arith.b"), pos = try Ref.get("arith.pos")
        try check(a.clone().add_(b, alpha: 0.5), "arith.add_alpha_")
        try check(a.clone().addcmul_(pos, b.expand([3, 4]), value: 0.3), "arith.addcmul_")
        try check(a.clone().addcdiv_(b.expand([3, 4]), pos, value: 0.3), "arith.addcdiv_")
        try check(a.clone().maskedFill_(a .> 0.5, -1.0), "arith.masked_fill_")

        // In-place ops write through to the receiver and return it.
        let x = a.clone()
        let r = x.mul_(b)
        try check(x, "arith.mul_inplace")
        try check(r, "arith.mul_inplace")
        let y = Tensor.zeros([2, 2])
        y.fill_(3).add_(1).div_(2)
        #expect(y.floats == [2, 2, 2, 2])
        y.copy_(Tensor([1, 2] as [Double]))  // broadcast and cast
        #expect(y.floats == [1, 2, 1, 2])
        y.clamp_(min: 1.5)
        #expect(y.floats == [1.5, 2, 1.5, 2])
        y.zero_()
        #expect(y.floats == [0, 0, 0, 0])
    }
}
