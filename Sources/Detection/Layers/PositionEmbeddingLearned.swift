import NN
import Torch

/// Learned absolute position embedding (DETR's `PositionEmbeddingLearned`): one table for rows
/// and one for columns. Keys: `row_embed.weight`, `col_embed.weight` [numEmbeddings, numPosFeats],
/// initialised U(0, 1).
public struct PositionEmbeddingLearned: Module {
    public let path: ModulePath
    let rowEmbed: Embedding
    let colEmbed: Embedding

    public init(_ p: ModulePath, numEmbeddings: Int, numPosFeats: Int) {
        path = p
        rowEmbed = Embedding(p / "row_embed", numEmbeddings: numEmbeddings, embeddingDim: numPosFeats)
        colEmbed = Embedding(p / "col_embed", numEmbeddings: numEmbeddings, embeddingDim: numPosFeats)
        let store = p.store
        withNoGrad {
            for e in [rowEmbed, colEmbed] {
                e.weight.copy_(
                    ParameterInit.uniform(low: 0, high: 1).make(
                        shape: e.weight.shape, dtype: store.dtype,
                        generator: store.generator))
            }
        }
    }

    public var numEmbeddings: Int { rowEmbed.numEmbeddings }

    /// The embedding of an h×w grid, the same for every image.
    ///
    /// The official module indexes its tables with 0..<w and 0..<h and fails beyond
    /// `numEmbeddings`; here larger maps reuse the last row/column embedding (a map that large
    /// only occurs for inputs far beyond the training resolution).
    /// - Returns: [h·w, 2·numPosFeats], row-major (y, x); channels = column (x) features, then
    ///   row (y) features
    public func flattened(height h: Int, width w: Int) -> Tensor {
        let last = numEmbeddings - 1
        let xs = Tensor((0..<w).map { Swift.min($0, last) }).to(rowEmbed.weight.device)
        let ys = Tensor((0..<h).map { Swift.min($0, last) }).to(rowEmbed.weight.device)
        let x = colEmbed(xs).unsqueeze(0).expand([h, w, -1])  // [h, w, F]
        let y = rowEmbed(ys).unsqueeze(1).expand([h, w, -1])  // [h, w, F]
        return Tensor.cat([x, y], dim: -1).flatten(startDim: 0, endDim: 1)
    }
}
