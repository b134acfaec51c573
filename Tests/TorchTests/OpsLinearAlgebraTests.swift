import TestSupport
import Testing
import Torch

/// matmul, bmm, linear, baddbmm, cdist and einsum against PyTorch.
@Suite struct OpsLinearAlgebraTests {
    @Test func products() throws {
        let m = try Ref.get("linalg.m"), n = try Ref.get("linalg.n"), v = try Ref.get("linalg.v")
        let b3 = try Ref.get("linalg.b3"), b4 = try Ref.get("linalg.b4")
        try check(m.matmul(n), "linalg.mm")
        try check(m • n, "linalg.mm")
        try check(b3.bmm(b4), "linalg.bmm")
        try check(b3.matmul(n), "linalg.matmul_bcast")  // [2,3,4] @ [4,5]
        try check(m.matmul(v), "linalg.matvec")
        try check(Ref.get("linalg.q4").matmul(Ref.get("linalg.k3")), "linalg.matmul_4d")  // -> [2,5,3,2]
        try check(Ref.get("linalg.c0").baddbmm(b3, b4, beta: 0.5, alpha: 2), "linalg.baddbmm")
    }

    @Test func linear() throws {
        let x = try Ref.get("linalg.xl"), w = try Ref.get("linalg.w"), b = try Ref.get("linalg.bias")
        try check(Tensor.linear(x, weight: w, bias: b), "linalg.linear")
        try check(Tensor.linear(x, weight: w, bias: nil), "linalg.linear_nobias")
    }

    /// The fused GELU (oneDNN inner product at inference, at::linear + gelu under autograd)
    /// equals the unfused computation to float32 rounding, with and without gradients.
    @Test func linearGELU() {
        let g = Generator(seed: 4)
        let x = Tensor.randn([37, 48], generator: g) * 3, w = Tensor.randn([96, 48], generator: g) * 0.2
        let b = Tensor.randn([96], generator: g)
        let reference = Tensor.linear(x, weight: w, bias: b).gelu()
        let fused = withNoGrad { Tensor.linearGELU(x, weight: w, bias: b) }
        #expect(TestSupport.maxAbsDiff(fused, reference) < 1e-5 * (reference.abs().max().item() + 1))
        #expect(
            TestSupport.maxAbsDiff(
                withNoGrad { Tensor.linearGELU(x, weight: w, bias: nil) },
                Tensor.linear(x, weight: w, bias: nil).gelu()) < 1e-4)
        let wg = w.detach().requiringGrad()
        let tracked = Tensor.linearGELU(x, weight: wg, bias: b)
        #expect(TestSupport.maxAbsDiff(tracked.detach(), reference) < 1e-5 * (reference.abs().max().item() + 1))
        tracked.sum().backward()
        #expect(wg.grad != nil)
    }

    @Test func distances() throws {
        let p = try Ref.get("linalg.p"), r = try Ref.get("linalg.r")
        try check(p.cdist(r, p: 1), "linalg.cdist_p1")
        try check(p.cdist(r), "linalg.cdist_p2")
        try check(p[0].cdist(r[1], p: 1), "linalg.cdist_p1_2d")
        try check(Tensor.einsum("bqc,bkc->bqk", [p, r]), "linalg.einsum")
    }
}
