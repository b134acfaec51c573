import Torch

/// y = x Wᵀ + b (`nn.Linear`). Keys: `weight` [out, in], `bias` [out].
public struct Linear: Module, Layer {
    public let path: ModulePath
    public let weight: Tensor
    public let bias: Tensor?

    /// Initialised like PyTorch: kaiming_uniform_(a=sqrt(5)) weight, U(±1/sqrt(in)) bias.
    public init(_ p: ModulePath, inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        path = p
        weight = p.parameter("weight", shape: [outFeatures, inFeatures], initializer: .torchDefaultWeight)
        self.bias =
            bias
            ? p.parameter("bias", shape: [outFeatures], initializer: .torchDefaultBias(fanIn: inFeatures)) : nil
    }

    public var inFeatures: Int { weight.size(1) }
    public var outFeatures: Int { weight.size(0) }

    /// - Parameter x: [..., in]
    /// - Returns: [..., out]
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.linear(x, weight: weight, bias: bias) }

    /// ReLU(x Wᵀ + b), fused into the product where no gradient is needed.
    public func callAsFunction(_ x: Tensor, relu: Bool) -> Tensor {
        Tensor.linear(x, weight: weight, bias: bias, relu: relu)
    }

    /// GELU(x Wᵀ + b) (exact erf form), fused into the product where no gradient is needed.
    public func callAsFunction(gelu x: Tensor) -> Tensor { Tensor.linearGELU(x, weight: weight, bias: bias) }

    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor { self(x) }
}
