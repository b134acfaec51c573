import Torch

/// A lookup table (`nn.Embedding`). Key: `weight` [numEmbeddings, dim], initialised N(0, 1).
public struct Embedding: Module {
    public let path: ModulePath
    public let weight: Tensor

    public init(_ p: ModulePath, numEmbeddings: Int, embeddingDim: Int) {
        path = p
        weight = p.parameter("weight", shape: [numEmbeddings, embeddingDim], initializer: .normal(mean: 0, std: 1))
    }

    public var numEmbeddings: Int { weight.size(0) }
    public var embeddingDim: Int { weight.size(1) }

    /// - Parameter indices: int64 [...]
    /// - Returns: [..., dim]
    public func callAsFunction(_ indices: Tensor) -> Tensor { Functional.embedding(indices, weight: weight) }
}
