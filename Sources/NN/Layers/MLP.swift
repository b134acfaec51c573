import Torch

/// DETR's feed-forward head: `numLayers` linear layers with ReLU between them (not after the
/// last). Keys: `layers.<i>.weight`, `layers.<i>.bias`.
public struct MLP: Module, Layer {
    public let path: ModulePath
    public let layers: ModuleList<Linear>

    /// Layer i maps dims[i] -> dims[i+1] with dims = [inputDim, hidden x (numLayers-1), outputDim].
    public init(_ p: ModulePath, inputDim: Int, hiddenDim: Int, outputDim: Int, numLayers: Int) {
        precondition(numLayers >= 1, "MLP \(p): numLayers must be at least 1")
        path = p
        let dims = [inputDim] + Array(repeating: hiddenDim, count: numLayers - 1) + [outputDim]
        layers = ModuleList(p / "layers", count: numLayers) { q, i in
            Linear(q, inFeatures: dims[i], outFeatures: dims[i + 1])
        }
    }

    /// - Parameter x: [..., inputDim]
    /// - Returns: [..., outputDim]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var y = x
        for (i, layer) in layers.enumerated() {
            y = layer(y, relu: i < layers.count - 1)
        }
        return y
    }

    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor { self(x) }
}
