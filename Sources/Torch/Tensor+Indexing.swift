import CTorch

/// One entry of an advanced index: a whole dimension (`:`) or an index tensor.
public enum TensorIndex {
    case all
    case tensor(Tensor)

    var tensor: Tensor? {
        if case .tensor(let t) = self { return t }
        return nil
    }
}

extension Tensor {
    /// `self[..., start:end:step, ...]` along `dim` (a view). Bounds clamp like Python slices.
    public func slice(dim: Int, start: Int = 0, end: Int? = nil, step: Int = 1) -> Tensor {
        let r = Tensor(checking: ct_slice(handle, Int64(dim), Int64(start), Int64(end ?? Int(Int64.max)), Int64(step)))
        guard OperationTrace.active != nil else { return r }
        // The bounds as Python clamps them, on the dimension's size.
        let d = dim < 0 ? dim + rank : dim, n = size(d)
        func clamped(_ i: Int) -> Int { Swift.min(Swift.max(i < 0 ? i + n : i, 0), n) }
        let s = clamped(start), e = Swift.max(clamped(end ?? n), s)
        return r.traced(.slice(dim: d, start: s, end: e, step: step), [self], view: true)
    }
    /// `self.select(dim, index)`: removes `dim` (a view).
    public func select(dim: Int, index: Int) -> Tensor {
        Tensor(checking: ct_select(handle, Int64(dim), Int64(index))).traced(
            .select(dim: dim < 0 ? dim + rank : dim, index: index < 0 ? index + size(dim) : index), [self], view: true)
    }
    /// `self[i]` along dimension 0.
    public subscript(_ index: Int) -> Tensor { select(dim: 0, index: index) }
    /// `self[range]` along dimension 0.
    public subscript(_ range: Range<Int>) -> Tensor { slice(dim: 0, start: range.lowerBound, end: range.upperBound) }
    public func narrow(dim: Int, start: Int, length: Int) -> Tensor {
        Tensor(checking: ct_narrow(handle, Int64(dim), Int64(start), Int64(length))).traced(
            .slice(dim: dim < 0 ? dim + rank : dim, start: start, end: start + length, step: 1), [self], view: true)
    }
    public func indexSelect(dim: Int, index: Tensor) -> Tensor {
        Tensor(checking: ct_index_select(handle, Int64(dim), index.handle)).traced(.indexSelect(dim: dim), [self, index])
    }
    public func gather(dim: Int, index: Tensor) -> Tensor {
        Tensor(checking: ct_gather(handle, Int64(dim), index.handle)).traced(.gather(dim: dim), [self, index])
    }
    /// Out-of-place scatter: a copy with `src` values written at `index` along `dim`.
    public func scatter(dim: Int, index: Tensor, src: Tensor) -> Tensor {
        Tensor(checking: ct_scatter(handle, Int64(dim), index.handle, src.handle))
            .traced(.scatter(dim: dim, add: false), [self, index, src])
    }
    @discardableResult public func scatter_(dim: Int, index: Tensor, src: Tensor) -> Tensor {
        Tensor(checking: ct_scatter_(handle, Int64(dim), index.handle, src.handle))
            .tracedInPlace(.scatter(dim: dim, add: false), on: self, [self, index, src])
    }
    public func scatterAdd(dim: Int, index: Tensor, src: Tensor) -> Tensor {
        Tensor(checking: ct_scatter_add(handle, Int64(dim), index.handle, src.handle))
            .traced(.scatter(dim: dim, add: true), [self, index, src])
    }
    public func indexAdd(dim: Int, index: Tensor, source: Tensor) -> Tensor {
        Tensor(checking: ct_index_add(handle, Int64(dim), index.handle, source.handle))
            .traced(.indexAdd(dim: dim), [self, index, source])
    }
    /// 1-D tensor of the elements where `mask` is true.
    public func maskedSelect(_ mask: Tensor) -> Tensor {
        Tensor(checking: ct_masked_select(handle, mask.handle)).traced(.maskedSelect, [self, mask])
    }
    /// Indices of non-zero elements, [n, rank] int64.
    public func nonzero() -> Tensor { Tensor(checking: ct_nonzero(handle)).traced(.nonzero, [self]) }

    private func withIndexHandles<R>(_ indices: [TensorIndex], _ body: ([ct_tensor?]) -> R) -> R {
        let hs: [ct_tensor?] = indices.map {
            if case .tensor(let t) = $0 { return t.handle }
            return nil
        }
        return withExtendedLifetime(indices) { body(hs) }
    }

    /// Advanced indexing `self[i0, i1, ...]` with index tensors (int64 or bool) or `.all`.
    public func index(_ indices: [TensorIndex]) -> Tensor {
        withIndexHandles(indices) {
            Tensor(checking: ct_index(handle, $0, Int64($0.count))).traced(.index, [self] + indices.map(\.tensor))
        }
    }
    /// `self[indices]` with a single index tensor (int64 or bool mask).
    public subscript(_ index: Tensor) -> Tensor { self.index([.tensor(index)]) }

    /// Out-of-place `self[indices] = values` (or `+=` when `accumulate`).
    public func indexPut(_ indices: [TensorIndex], _ values: Tensor, accumulate: Bool = false) -> Tensor {
        withIndexHandles(indices) {
            Tensor(checking: ct_index_put(handle, $0, Int64($0.count), values.handle, accumulate))
                .traced(.indexPut(accumulate: accumulate), [self, values] + indices.map(\.tensor))
        }
    }
    @discardableResult
    public func indexPut_(_ indices: [TensorIndex], _ values: Tensor, accumulate: Bool = false) -> Tensor {
        withIndexHandles(indices) {
            Tensor(checking: ct_index_put_(handle, $0, Int64($0.count), values.handle, accumulate))
                .tracedInPlace(.indexPut(accumulate: accumulate), on: self, [self, values] + indices.map(\.tensor))
        }
    }
}
