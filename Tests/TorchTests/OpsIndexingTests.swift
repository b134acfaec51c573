import TestSupport
import Testing
import Torch

/// Slicing, gather/scatter, masking and advanced indexing against PyTorch.
@Suite struct OpsIndexingTests {
    @Test func slicingAndSelection() throws {
        let x = try Ref.get("index.x")  // [4, 5, 3]
        try check(x.slice(dim: 1, start: 1, end: 5, step: 2), "index.slice_d1_step2")
        try check(x[-3 ..< -1], "index.slice_neg")
        try check(x.slice(dim: 2, step: 2), "index.slice_d2_step2")
        try check(x.select(dim: 1, index: 2), "index.select_d1")
        try check(x[-1], "index.select_neg")
        try check(x.narrow(dim: 1, start: 1, length: 3), "index.narrow")
        try check(x.indexSelect(dim: 1, index: Ref.get("index.index_select.idx")), "index.index_select_d1")

        // Slices are views: writing through one changes the source.
        let y = x.clone()
        y.slice(dim: 1, start: 1, end: 2).fill_(7)
        #expect(y.select(dim: 1, index: 1).floats.allSatisfy { $0 == 7 })
        #expect(y.select(dim: 1, index: 0).floats == x.select(dim: 1, index: 0).floats)
    }

    @Test func gatherScatter() throws {
        let x = try Ref.get("index.x")
        try check(x.gather(dim: 1, index: Ref.get("index.gather.idx")), "index.gather_d1")
        let base = try Ref.get("index.scatter.base")
        let idx = try Ref.get("index.scatter.idx"), src = try Ref.get("index.scatter.src")
        try check(base.scatter(dim: 1, index: idx, src: src), "index.scatter")
        let inPlace = base.clone()
        inPlace.scatter_(dim: 1, index: idx, src: src)
        try check(inPlace, "index.scatter")
        let aidx = try Ref.get("index.scatter_add.idx"), asrc = try Ref.get("index.scatter_add.src")
        try check(base.scatterAdd(dim: 1, index: aidx, src: asrc), "index.scatter_add")
        try check(base.indexAdd(dim: 1, index: Tensor([0, 4, 0]), source: asrc), "index.index_add")
    }

    @Test func maskingAndWhere() throws {
        let x = try Ref.get("index.x")
        let mask = x .> 0.5
        try check(x.maskedFill(mask, -1.0), "index.masked_fill")
        try check(x.maskedFill(Ref.get("index.masked_fill.bmask"), 2.0), "index.masked_fill_broadcast")
        try check(Tensor.where(mask, x, Ref.get("index.where.y")), "index.where")
        try check(x.maskedSelect(mask), "index.masked_select")
        try check(Ref.get("index.mask2d.m").nonzero(), "index.nonzero")
    }

    @Test func advancedIndexing() throws {
        let x = try Ref.get("index.x")
        try check(x[Tensor([0, 2, 3])], "index.rows")
        let i0 = try Ref.get("index.pair.i0"), i2 = try Ref.get("index.pair.i2")
        try check(x.index([.tensor(i0), .all, .tensor(i2)]), "index.pair")  // x[i0, :, i2] -> [3, 5]
        try check(x.index([.all, .tensor(Tensor([1, 4, 0, 0], shape: [2, 2]))]), "index.col")
        try check(x[x .> 0.5], "index.mask_full")
        try check(x[Ref.get("index.mask2d.m")], "index.mask2d")
        let vals = try Ref.get("index.put.vals")
        try check(x.indexPut([.tensor(Tensor([3, 0, 1]))], vals), "index.put")
        let accIdx = try Ref.get("index.put_acc.idx")
        try check(x.indexPut([.tensor(accIdx)], vals, accumulate: true), "index.put_acc")
        let y = x.clone()
        y.indexPut_([.tensor(accIdx)], vals, accumulate: true)
        try check(y, "index.put_acc")
    }
}
