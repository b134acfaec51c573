import Torch

/// Stochastic depth per sample (torchvision's `StochasticDepth(p, "row")`): in training, each
/// sample's residual branch is dropped with probability `p` and kept ones are scaled by
/// 1/(1 − p); identity in eval and for p = 0. No parameters.
public struct StochasticDepth: Sendable {
    public let p: Double

    public init(p: Double) {
        precondition((0.0...1.0).contains(p), "StochasticDepth: p must be in [0, 1]")
        self.p = p
    }

    /// The rates of a network's blocks: p_i = `last` · i / (n − 1) for block i of n (the first
    /// block 0, the last `last`), as the official Swin, ConvNeXt and FocalNet backbones set them.
    public static func linearRates(last: Double, blocks n: Int) -> [Double] {
        (0..<n).map { n > 1 ? last * Double($0) / Double(n - 1) : 0 }
    }

    /// - Parameter x: [B, ...] a residual branch's output
    /// - Returns: x with whole samples zeroed (probability p) and the others scaled by 1/(1 − p)
    public func callAsFunction(_ x: Tensor, training: Bool, generator: Generator? = nil) -> Tensor {
        guard training && p > 0 else { return x }
        let survival = 1 - p
        var shape = [x.size(0)]
        shape += Array(repeating: 1, count: x.rank - 1)
        let keep = Tensor.full(shape, survival, dtype: x.dtype, device: x.device).bernoulli(generator: generator)
        return survival > 0 ? x * (keep / survival) : x * keep
    }
}
