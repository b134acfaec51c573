/// Selecting rows of batched sequences by per-image index lists.
extension Tensor {
    /// `self[b, index[b, j]]` for every image b and position j: what
    /// `gather(dim: 1, index: index.unsqueeze(-1).expand(...))` computes, through one
    /// `index_select` on the flattened batch (it reads n indices instead of n·C).
    /// - Parameters: self [B, N, ...]; index [B, n] int64
    /// - Returns: [B, n, ...]
    public func selectRows(_ index: Tensor) -> Tensor {
        let (b, n) = (size(0), size(1))
        let rest = Array(shape.dropFirst(2))
        if b == 1 { return self[0].indexSelect(dim: 0, index: index[0]).unsqueeze(0) }
        let offsets = Tensor.arange(0, b * n, step: n, device: index.device)  // first row of each image
        let flat = (index + offsets.unsqueeze(1)).flatten()
        return reshape([b * n] + rest).indexSelect(dim: 0, index: flat).view([b, index.size(1)] + rest)
    }
}
