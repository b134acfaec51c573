import Torch

/// Layer normalisation over the trailing `normalizedShape` dimensions (`nn.LayerNorm`).
/// Keys: `weight`, `bias` [normalizedShape] when elementwise-affine.
public struct LayerNorm: Module, Layer {
    public let path: ModulePath
    public let weight: Tensor?
    public let bias: Tensor?
    public let normalizedShape: [Int]
    public let eps: Double

    public init(_ p: ModulePath, normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true) {
        path = p
        weight = elementwiseAffine ? p.parameter("weight", shape: normalizedShape, initializer: .ones) : nil
        bias = elementwiseAffine ? p.parameter("bias", shape: normalizedShape, initializer: .zeros) : nil
        self.normalizedShape = normalizedShape
        self.eps = eps
    }

    /// Normalises over the last dimension of size `dim`.
    public init(_ p: ModulePath, _ dim: Int, eps: Double = 1e-5) {
        self.init(p, normalizedShape: [dim], eps: eps)
    }

    /// - Parameter x: [..., normalizedShape]
    /// - Returns: same shape
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Functional.layerNorm(x, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }

    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor { self(x) }
}
