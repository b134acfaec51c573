import Torch

/// Group normalisation (`nn.GroupNorm`): channels split into `numGroups` groups normalised
/// over (C/G, H, W). Keys: `weight`, `bias` [C] when affine.
public struct GroupNorm: Module, Layer {
    public let path: ModulePath
    public let weight: Tensor?
    public let bias: Tensor?
    public let numGroups: Int
    public let eps: Double

    public init(_ p: ModulePath, numGroups: Int, numChannels: Int, eps: Double = 1e-5, affine: Bool = true) {
        precondition(numChannels % numGroups == 0, "GroupNorm \(p): \(numChannels) channels, \(numGroups) groups")
        path = p
        weight = affine ? p.parameter("weight", shape: [numChannels], initializer: .ones) : nil
        bias = affine ? p.parameter("bias", shape: [numChannels], initializer: .zeros) : nil
        self.numGroups = numGroups
        self.eps = eps
    }

    /// - Parameter x: [B, C, ...]
    /// - Returns: same shape
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Functional.groupNorm(x, groups: numGroups, weight: weight, bias: bias, eps: eps)
    }

    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor { self(x) }
}
