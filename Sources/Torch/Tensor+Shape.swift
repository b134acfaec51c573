import CTorch

extension Tensor {
    /// A view with a new shape (one entry may be -1). Requires compatible strides.
    public func view(_ shape: [Int]) -> Tensor {
        let s = shape.map(Int64.init)
        return Tensor(checking: ct_view(handle, s, Int64(s.count))).traced(.reshape, [self], view: true)
    }
    public func view(_ shape: Int...) -> Tensor { view(shape) }
    /// Like `view`, copying when the strides do not allow a view.
    public func reshape(_ shape: [Int]) -> Tensor {
        let s = shape.map(Int64.init)
        return Tensor(checking: ct_reshape(handle, s, Int64(s.count))).traced(.reshape, [self], view: true)
    }
    public func reshape(_ shape: Int...) -> Tensor { reshape(shape) }
    public func permute(_ dims: [Int]) -> Tensor {
        let d = dims.map(Int64.init)
        return Tensor(checking: ct_permute(handle, d, Int64(d.count)))
            .traced(.permute(dims.map { $0 < 0 ? $0 + rank : $0 }), [self], view: true)
    }
    public func permute(_ dims: Int...) -> Tensor { permute(dims) }
    public func transpose(_ d0: Int, _ d1: Int) -> Tensor {
        Tensor(checking: ct_transpose(handle, Int64(d0), Int64(d1))).traced(.permute(swapping(d0, d1)), [self], view: true)
    }
    /// The permutation of this tensor's dimensions that swaps d0 and d1.
    private func swapping(_ d0: Int, _ d1: Int) -> [Int] {
        let n = rank
        var perm = Array(0..<n)
        if n > 0 { perm.swapAt(d0 < 0 ? d0 + n : d0, d1 < 0 ? d1 + n : d1) }
        return perm
    }
    public func flatten(startDim: Int = 0, endDim: Int = -1) -> Tensor {
        Tensor(checking: ct_flatten(handle, Int64(startDim), Int64(endDim))).traced(.reshape, [self], view: true)
    }
    /// Splits dimension `dim` into `sizes`.
    public func unflatten(dim: Int, sizes: [Int]) -> Tensor {
        let s = sizes.map(Int64.init)
        return Tensor(checking: ct_unflatten(handle, Int64(dim), s, Int64(s.count))).traced(.reshape, [self], view: true)
    }
    /// Broadcast view to `shape` (-1 keeps a size).
    public func expand(_ shape: [Int]) -> Tensor {
        let s = shape.map(Int64.init)
        return Tensor(checking: ct_expand(handle, s, Int64(s.count))).traced(.expand, [self], view: true)
    }
    public func expand(as other: Tensor) -> Tensor { expand(other.shape) }
    /// Tiles the tensor (`torch.Tensor.repeat`).
    public func `repeat`(_ repeats: [Int]) -> Tensor {
        let r = repeats.map(Int64.init)
        return Tensor(checking: ct_repeat(handle, r, Int64(r.count))).traced(.repeat(repeats), [self])
    }
    public func repeatInterleave(_ repeats: Int, dim: Int) -> Tensor {
        Tensor(checking: ct_repeat_interleave(handle, Int64(repeats), Int64(dim)))
            .traced(.repeatInterleave(repeats: repeats, dim: dim), [self])
    }
    /// Removes size-1 dimensions (all, or only `dim`).
    public func squeeze(dim: Int? = nil) -> Tensor {
        Tensor(checking: ct_squeeze(handle, Int64(dim ?? 0), dim == nil)).traced(.reshape, [self], view: true)
    }
    public func unsqueeze(_ dim: Int) -> Tensor {
        Tensor(checking: ct_unsqueeze(handle, Int64(dim))).traced(.reshape, [self], view: true)
    }
    public func asStrided(_ shape: [Int], strides: [Int], offset: Int = 0) -> Tensor {
        precondition(shape.count == strides.count, "asStrided: shape and strides differ in rank")
        let s = shape.map(Int64.init), st = strides.map(Int64.init)
        return Tensor(checking: ct_as_strided(handle, s, st, Int64(s.count), Int64(offset)))
            .traced(.asStrided, [self], view: true)
    }
    public func flip(_ dims: [Int]) -> Tensor {
        let d = dims.map(Int64.init)
        return Tensor(checking: ct_flip(handle, d, Int64(d.count))).traced(.flip(dims), [self])
    }
    public func roll(_ shift: Int, dim: Int) -> Tensor {
        Tensor(checking: ct_roll(handle, Int64(shift), Int64(dim))).traced(.roll(shift: shift, dim: dim), [self])
    }
    public func tril(_ diagonal: Int = 0) -> Tensor {
        Tensor(checking: ct_tril(handle, Int64(diagonal))).traced(.triangle(diagonal: diagonal, upper: false), [self])
    }
    public func triu(_ diagonal: Int = 0) -> Tensor {
        Tensor(checking: ct_triu(handle, Int64(diagonal))).traced(.triangle(diagonal: diagonal, upper: true), [self])
    }

    /// Concatenates along an existing dimension.
    public static func cat(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        let hs: [ct_tensor?] = tensors.map { $0.handle }
        return withExtendedLifetime(tensors) {
            Tensor(checking: ct_cat(hs, Int64(hs.count), Int64(dim))).traced(.cat(dim: dim), tensors)
        }
    }
    /// Stacks along a new dimension.
    public static func stack(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        let hs: [ct_tensor?] = tensors.map { $0.handle }
        return withExtendedLifetime(tensors) {
            Tensor(checking: ct_stack(hs, Int64(hs.count), Int64(dim))).traced(.stack(dim: dim), tensors)
        }
    }

    static func list(_ body: (UnsafeMutablePointer<UnsafeMutablePointer<ct_tensor?>?>) -> Int64) -> [Tensor] {
        var out: UnsafeMutablePointer<ct_tensor?>?
        let n = body(&out)
        guard n >= 0, let out else {
            Torch.fail(Torch.lastErrorMessage())
            return []
        }
        defer { ct_free_list(out) }
        return (0..<Int(n)).map { Tensor(checking: out[$0]) }
    }

    /// Pieces of `size` along `dim` (the last may be smaller).
    public func split(_ size: Int, dim: Int = 0) -> [Tensor] {
        tracedPieces(dim: dim, Tensor.list { ct_split(handle, Int64(size), Int64(dim), $0) })
    }
    /// Pieces with the given sizes along `dim`.
    public func split(sizes: [Int], dim: Int = 0) -> [Tensor] {
        let s = sizes.map(Int64.init)
        return tracedPieces(dim: dim, Tensor.list { ct_split_sizes(handle, s, Int64(s.count), Int64(dim), $0) })
    }
    public func chunk(_ chunks: Int, dim: Int = 0) -> [Tensor] {
        tracedPieces(dim: dim, Tensor.list { ct_chunk(handle, Int64(chunks), Int64(dim), $0) })
    }
    public func unbind(dim: Int = 0) -> [Tensor] {
        let pieces = Tensor.list { ct_unbind(handle, Int64(dim), $0) }
        if OperationTrace.active != nil {
            let d = dim < 0 ? dim + rank : dim
            for (i, p) in pieces.enumerated() { _ = p.traced(.select(dim: d, index: i), [self], view: true) }
        }
        return pieces
    }

    /// Records pieces along `dim` as slices of self.
    private func tracedPieces(dim: Int, _ pieces: [Tensor]) -> [Tensor] {
        guard OperationTrace.active != nil else { return pieces }
        let d = dim < 0 ? dim + rank : dim
        var start = 0
        for p in pieces {
            let n = p.size(d)
            _ = p.traced(.slice(dim: d, start: start, end: start + n, step: 1), [self], view: true)
            start += n
        }
        return pieces
    }

    /// `torch.meshgrid(a, b, indexing="ij")`.
    public static func meshgrid(_ a: Tensor, _ b: Tensor) -> (Tensor, Tensor) {
        var second: ct_tensor?
        let first = Tensor(checking: ct_meshgrid_ij(a.handle, b.handle, &second))
        let r = (first, Tensor(checking: second))
        traceResults(.meshgrid, [a, b], outputs: [r.0, r.1])
        return r
    }
}
