import CTorch

@usableFromInline enum ReduceOp: Int32 {
    case sum = 0, mean, prod, amax, amin, any, all, norm2, logsumexp, nansum
}

extension Tensor {
    @usableFromInline func reduce(_ op: ReduceOp, _ dims: [Int], _ keepDim: Bool) -> Tensor {
        let d = dims.map(Int64.init)
        return Tensor(checking: ct_reduce(op.rawValue, handle, d, Int64(d.count), keepDim))
            .traced(.reduce(ReduceOperator(rawValue: op.rawValue)!, dims: dims, keepDim: keepDim), [self])
    }

    // Reductions take `dims` (negative counts from the end); an empty list reduces every
    // dimension, and `keepDim` then keeps them all as size 1.

    /// Sum of all elements (0-dim), or over `dims`.
    public func sum(dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.sum, dims, keepDim) }
    public func sum(dim: Int, keepDim: Bool = false) -> Tensor { reduce(.sum, [dim], keepDim) }
    /// Sum treating NaN as zero.
    public func nansum(dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.nansum, dims, keepDim) }
    public func mean(dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.mean, dims, keepDim) }
    public func mean(dim: Int, keepDim: Bool = false) -> Tensor { reduce(.mean, [dim], keepDim) }
    /// Product over `dim`, or over all elements when nil.
    public func prod(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        reduce(.prod, dim.map { [$0] } ?? [], keepDim)
    }
    public func prod(dims: [Int], keepDim: Bool = false) -> Tensor { reduce(.prod, dims, keepDim) }
    /// Maximum values (no indices); all elements when `dims` is empty.
    public func amax(dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.amax, dims, keepDim) }
    public func amin(dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.amin, dims, keepDim) }
    public func max() -> Tensor { reduce(.amax, [], false) }
    public func min() -> Tensor { reduce(.amin, [], false) }
    public func any(dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.any, dims, keepDim) }
    public func all(dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.all, dims, keepDim) }
    /// Euclidean norm over all elements or `dims`.
    public func norm(dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.norm2, dims, keepDim) }
    /// log(sum(exp(x))) computed stably, over `dims` (all when empty).
    public func logsumexp(dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.logsumexp, dims, keepDim) }

    /// Variance with Bessel's correction by default (`correction` 1), like `torch.var`.
    public func variance(dims: [Int] = [], correction: Int = 1, keepDim: Bool = false) -> Tensor {
        let d = dims.map(Int64.init)
        return Tensor(checking: ct_var(handle, d, Int64(d.count), Int64(correction), keepDim))
            .traced(.variance(dims: dims, correction: correction, keepDim: keepDim, std: false), [self])
    }
    public func std(dims: [Int] = [], correction: Int = 1, keepDim: Bool = false) -> Tensor {
        let d = dims.map(Int64.init)
        return Tensor(checking: ct_std(handle, d, Int64(d.count), Int64(correction), keepDim))
            .traced(.variance(dims: dims, correction: correction, keepDim: keepDim, std: true), [self])
    }

    /// Maximum along `dim` with its indices.
    public func max(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        var v: ct_tensor?, i: ct_tensor?
        Torch.check(ct_max_dim(handle, Int64(dim), keepDim, &v, &i))
        let r = (values: Tensor(checking: v), indices: Tensor(checking: i))
        traceResults(.maxDim(dim: dim, keepDim: keepDim, isMax: true), [self], outputs: [r.values, r.indices])
        return r
    }
    public func min(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        var v: ct_tensor?, i: ct_tensor?
        Torch.check(ct_min_dim(handle, Int64(dim), keepDim, &v, &i))
        let r = (values: Tensor(checking: v), indices: Tensor(checking: i))
        traceResults(.maxDim(dim: dim, keepDim: keepDim, isMax: false), [self], outputs: [r.values, r.indices])
        return r
    }
    /// Index of the maximum (of the flattened tensor when `dim` is nil).
    public func argmax(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        Tensor(checking: ct_argmax(handle, Int64(dim ?? 0), dim != nil, keepDim))
            .traced(.argmax(dim: dim, keepDim: keepDim, isMax: true), [self])
    }
    public func argmin(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        Tensor(checking: ct_argmin(handle, Int64(dim ?? 0), dim != nil, keepDim))
            .traced(.argmax(dim: dim, keepDim: keepDim, isMax: false), [self])
    }
    public func cumsum(dim: Int) -> Tensor {
        Tensor(checking: ct_cumsum(handle, Int64(dim))).traced(.cumsum(dim: dim), [self])
    }
    public func cumprod(dim: Int) -> Tensor {
        Tensor(checking: ct_cumprod(handle, Int64(dim))).traced(.cumprod(dim: dim), [self])
    }

    /// The `k` largest (or smallest) values along `dim` and their indices.
    public func topk(
        _ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true
    )
        -> (values: Tensor, indices: Tensor)
    {
        var v: ct_tensor?, i: ct_tensor?
        if OperationTrace.isRecordingGraph {
            // A recording computes what its graph will: ONNX's TopK puts the lower index first
            // among equal values, which a stable sort does (libtorch's topk leaves ties in no
            // defined order).
            var sv: ct_tensor?, si: ct_tensor?
            Torch.check(ct_sort(handle, Int64(dim), largest, true, &sv, &si))
            let (allValues, allIndices) = (Tensor(checking: sv), Tensor(checking: si))
            v = ct_narrow(allValues.handle, Int64(dim), 0, Int64(k))
            i = ct_narrow(allIndices.handle, Int64(dim), 0, Int64(k))
        } else {
            Torch.check(ct_topk(handle, Int64(k), Int64(dim), largest, sorted, &v, &i))
        }
        let r = (values: Tensor(checking: v), indices: Tensor(checking: i))
        traceResults(.topk(k: k, dim: dim, largest: largest, sorted: sorted), [self], outputs: [r.values, r.indices])
        return r
    }

    public func sort(
        dim: Int = -1, descending: Bool = false, stable: Bool = false
    )
        -> (values: Tensor, indices: Tensor)
    {
        var v: ct_tensor?, i: ct_tensor?
        // While recording, ties keep their order (the lower index first, as ONNX's TopK that
        // records the sort orders them).
        Torch.check(ct_sort(handle, Int64(dim), descending, stable || OperationTrace.isRecordingGraph, &v, &i))
        let r = (values: Tensor(checking: v), indices: Tensor(checking: i))
        traceResults(
            .sort(dim: dim, descending: descending, stable: stable, indicesOnly: false), [self],
            outputs: [r.values, r.indices])
        return r
    }
    public func argsort(dim: Int = -1, descending: Bool = false, stable: Bool = false) -> Tensor {
        Tensor(checking: ct_argsort(handle, Int64(dim), descending, stable || OperationTrace.isRecordingGraph))
            .traced(.sort(dim: dim, descending: descending, stable: stable, indicesOnly: true), [self])
    }
}
