import TestSupport
import Testing
import Torch

/// Views, reshaping, joining and splitting against PyTorch.
@Suite struct OpsShapeTests {
    @Test func joinAndSplit() throws {
        let a = try Ref.get("shape.a"), a2 = try Ref.get("shape.a2"), p = try Ref.get("shape.p")
        try check(Tensor.cat([a, a2], dim: 0), "shape.cat_d0")
        try check(Tensor.cat([a, p, a2], dim: 2), "shape.cat_d2")
        try check(Tensor.stack([a, a2]), "shape.stack_d0")
        try check(Tensor.stack([a, a2], dim: 1), "shape.stack_d1")
        try check(Tensor.stack([a, a2], dim: -1), "shape.stack_dm1")
        func pieces(_ ts: [Tensor], _ name: String, count: Int) throws {
            #expect(ts.count == count, "\(name): piece count")
            for (k, t) in ts.enumerated() { try check(t, "\(name).\(k)") }
        }
        try pieces(a.split(3, dim: 2), "shape.split3_d2", count: 2)
        try pieces(a.split(sizes: [1, 3], dim: 2), "shape.split_sizes", count: 2)
        try pieces(a.chunk(2, dim: 1), "shape.chunk2_d1", count: 2)
        try pieces(a.unbind(dim: 1), "shape.unbind_d1", count: 3)
    }

    @Test func reshapeAndPermute() throws {
        let a = try Ref.get("shape.a")  // [2, 3, 4]
        try check(a.view(6, 4), "shape.view")
        try check(a.view(-1, 2), "shape.view_infer")
        let t = a.transpose(0, 2)
        #expect(!t.isContiguous && t.strides == [1, 4, 12])
        try check(t, "shape.transpose")
        try check(t.reshape(4, 6), "shape.reshape_t")  // copies: not viewable
        try check(a.permute(2, 0, 1), "shape.permute")
        try check(a.flatten(startDim: 1), "shape.flatten1")
        try check(a.flatten(), "shape.flatten_all")
        try check(a.unflatten(dim: 2, sizes: [2, 2]), "shape.unflatten")
        try check(a.unsqueeze(1), "shape.unsqueeze")
        let p = try Ref.get("shape.p")
        try check(p.unsqueeze(0).squeeze(), "shape.squeeze_all")
        try check(p.squeeze(dim: 2), "shape.squeeze_d2")
        try check(a.flip([0, 2]), "shape.flip")
        try check(a.roll(1, dim: 2), "shape.roll")
        let sq = try Ref.get("shape.sq")
        try check(sq.tril(), "shape.tril")
        try check(sq.triu(1), "shape.triu1")

        // A view shares storage with its source.
        let b = a.clone()
        b.view(6, 4)[0].fill_(5)
        #expect(b[0][0].floats == [5, 5, 5, 5])
    }

    @Test func expandRepeat() throws {
        let a = try Ref.get("shape.a"), col = try Ref.get("shape.col")  // col [3, 1]
        let e = col.expand([2, 3, 4])
        #expect(e.strides == [0, 1, 0])  // a broadcast view, no copy
        try check(e, "shape.expand")
        try check(col.expand(as: a), "shape.expand")
        try check(a.repeat([2, 1, 2]), "shape.repeat")
        try check(col.repeat([2, 1, 3]), "shape.repeat_new_dim")
        try check(a.repeatInterleave(2, dim: 1), "shape.repeat_interleave")
        let (gy, gx) = Tensor.meshgrid(Tensor.arange(3), Tensor.arange(4))
        try check(gy, "shape.meshgrid.y")
        try check(gx, "shape.meshgrid.x")
    }
}
