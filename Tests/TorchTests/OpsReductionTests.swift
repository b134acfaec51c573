import TestSupport
import Testing
import Torch

/// Reductions, arg-reductions, scans, top-k and sorting against PyTorch.
@Suite struct OpsReductionTests {
    @Test func sumsMeansExtremes() throws {
        let x = try Ref.get("reduce.x")  // [3, 4, 5]
        try check(x.sum(), "reduce.sum_all")
        try check(x.sum(dim: 1), "reduce.sum_d1")
        try check(x.sum(dims: [0, 2], keepDim: true), "reduce.sum_d02_keep")
        try check(x.sum(dims: [0, 1, 2], keepDim: true), "reduce.sum_all_keep")
        try check(x.mean(), "reduce.mean_all")
        try check(x.mean(dim: -1), "reduce.mean_dm1")
        try check(x.prod(dim: 1), "reduce.prod_d1")
        try check(x.amax(dims: [2]), "reduce.amax_d2")
        try check(x.amin(dims: [0, 1]), "reduce.amin_d01")
        try check(x.max(), "reduce.max_all")
        try check(x.min(), "reduce.min_all")
        let mx = x.max(dim: 1)
        try check(mx.values, "reduce.max_d1.values")
        try check(mx.indices, "reduce.max_d1.indices")
        let mn = x.min(dim: 2, keepDim: true)
        try check(mn.values, "reduce.min_d2_keep.values")
        try check(mn.indices, "reduce.min_d2_keep.indices")
        try check(x.argmax(), "reduce.argmax_all")
        try check(x.argmax(dim: 1), "reduce.argmax_d1")
        try check(x.argmax(dim: 1, keepDim: true), "reduce.argmax_d1_keep")
        try check(x.argmin(dim: 2), "reduce.argmin_d2")
        let ints = try Ref.get("reduce.ints")
        try check(ints.sum(dim: 0), "reduce.sum_int")  // int64 stays int64
        try check(Ref.get("reduce.nan.x").nansum(dims: [1]), "reduce.nansum_d1")
    }

    @Test func varianceStdNorm() throws {
        let x = try Ref.get("reduce.x")
        try check(x.variance(), "reduce.var_all")
        try check(x.variance(dims: [1], correction: 0), "reduce.var_d1_c0")
        try check(x.variance(dims: [2], correction: 2, keepDim: true), "reduce.var_d2_c2_keep")
        try check(x.variance(dims: [0, 1]), "reduce.var_d01")
        try check(x.std(dims: [1]), "reduce.std_d1")
        try check(x.std(), "reduce.std_all")
        try check(x.std(dims: [2], correction: 0), "reduce.std_d2_c0")
        try check(x.norm(), "reduce.norm_all")
        try check(x.norm(dims: [2]), "reduce.norm_d2")
        try check(x.norm(dims: [1], keepDim: true), "reduce.norm_d1_keep")
        try check(x.logsumexp(dims: [1]), "reduce.logsumexp_d1")
    }

    /// An empty dim list reduces everything; `keepDim` then keeps every dimension as size 1.
    @Test func allDimsKeepDimAndDimLists() throws {
        let x = try Ref.get("reduce.x")
        try check(x.sum(keepDim: true), "reduce.sum_all_keep")
        try check(x.mean(keepDim: true), "reduce.mean_all_keep")
        try check(x.amax(keepDim: true), "reduce.amax_all_keep")
        try check(x.norm(keepDim: true), "reduce.norm_all_keep")
        try check(x.prod(keepDim: true), "reduce.prod_all_keep")
        try check(x.prod(dims: [0, 2]), "reduce.prod_d02")
        try check(x.logsumexp(), "reduce.logsumexp_all")
        try check(x.logsumexp(dims: [0, 1, 2]), "reduce.logsumexp_all")
        let m = x .> 0
        try check(m.any(dims: [2, -2]), "reduce.any_d12")  // -2 is dim 1, whatever the order
        try check(m.any(dims: [1, 2]), "reduce.any_d12")
        try check(m.all(dims: [0, 2], keepDim: true), "reduce.all_d02_keep")
        #expect(m.any(keepDim: true).shape == [1, 1, 1] && m.all(keepDim: true).shape == [1, 1, 1])
        // A 0-dim tensor reduces to itself.
        let s = Tensor(scalar: Float(3))
        #expect(s.sum().item() == 3 && s.sum(keepDim: true).rank == 0 && s.prod().item() == 3)
        #expect(throws: TorchError.self) { try Torch.catching { _ = m.any(dims: [1, 1]) } }
    }

    @Test func scansAndBooleanReductions() throws {
        let x = try Ref.get("reduce.x")
        try check(x.cumsum(dim: 1), "reduce.cumsum_d1")
        try check(x.cumprod(dim: 2), "reduce.cumprod_d2")
        try check(Ref.get("reduce.ints").cumsum(dim: -1), "reduce.cumsum_int")
        let m = x .> 0
        try check(m.any(dims: [1]), "reduce.any_d1")
        try check(m.all(dims: [2]), "reduce.all_d2")
        try check(m.any(), "reduce.any_all")
        try check(m.all(), "reduce.all_all")
    }

    @Test func topkAndSort() throws {
        let x = try Ref.get("reduce.x")
        let t3 = x.topk(3)
        try check(t3.values, "reduce.topk3.values")
        try check(t3.indices, "reduce.topk3.indices")
        let t2 = x.topk(2, dim: 1, largest: false)
        try check(t2.values, "reduce.topk2_smallest_d1.values")
        try check(t2.indices, "reduce.topk2_smallest_d1.indices")
        let sd = x.sort(descending: true)
        try check(sd.values, "reduce.sort_desc.values")
        try check(sd.indices, "reduce.sort_desc.indices")
        let s0 = x.sort(dim: 0)
        try check(s0.values, "reduce.sort_d0.values")
        try check(s0.indices, "reduce.sort_d0.indices")
        let ties = try Ref.get("reduce.ties")
        let st = ties.sort(stable: true)
        try check(st.values, "reduce.sort_stable.values")
        try check(st.indices, "reduce.sort_stable.indices")
        try check(ties.argsort(descending: true, stable: true), "reduce.argsort_stable_desc")
        try check(x.argsort(dim: 1), "reduce.argsort_d1")
    }
}
