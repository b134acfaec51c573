import Torch

/// Folding an inference-mode batch normalisation into the convolution before it:
/// y = γ·(conv(x) + b − μ)/sqrt(σ² + eps) + β = conv'(x) with w' = w·s, b' = (b − μ)·s + β,
/// s = γ·(σ² + eps)^-½ per output channel. Exact up to float32 rounding.
public enum BatchNormFolding {
    /// - Parameters: weight [out, in/g, kh, kw], convBias [out] or nil; gamma, beta [out] (nil: 1, 0);
    ///   mean, variance [out]
    /// - Returns: the folded weight (channels-last, the layout oneDNN runs fastest) and bias [out]
    public static func fold(
        weight: Tensor, convBias: Tensor?, gamma: Tensor?, beta: Tensor?, mean: Tensor,
        variance: Tensor, eps: Double
    ) -> (weight: Tensor, bias: Tensor) {
        var scale = (variance + eps).rsqrt()
        if let gamma { scale = gamma * scale }
        var shift = ((convBias.map { $0 - mean }) ?? -mean) * scale
        if let beta { shift = shift + beta }
        return ((weight * scale.reshape(-1, 1, 1, 1)).contiguous(.channelsLast), shift.contiguous())
    }
}
