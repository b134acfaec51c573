import NN
import Torch

/// Focal modulation, FocalNet's replacement of self-attention, on an NHWC map [B, H, W, C].
///
/// One linear layer `f` gives a query q [C], a context [C] and L + 1 gates. The context goes
/// through L depthwise convolutions (kernels window + 2l, no bias, each followed by exact GELU);
/// level l's output weighted by gate l is summed, plus the GELU of the last level's spatial mean
/// (over the whole, zero-padded map) weighted by gate L. The sum (divided by L + 1 when
/// normalised) passes a 1x1 convolution `h` (with bias) and multiplies q; then the optional
/// LayerNorm `ln`, the projection `proj` and dropout.
///
/// Keys, in state-dict order: `f`, `focal_layers.{l}.0`, `h`, `ln` (with `use_postln_in_modulation`), `proj`.
///
/// Layout: no copy-permutes. The NHWC output of `f` is read as NCHW views with channels-last
/// strides; the depthwise convolutions and the gated sum stay channels-last, whose NHWC view is
/// contiguous and goes straight into `h`, applied as a linear layer over channels.
struct FocalModulation: Module {
    let path: ModulePath
    let f: Linear
    /// Depthwise convolutions of levels 0..<L, [C, 1, k_l, k_l] with k_l = window + 2l.
    let focalLayers: [Conv2d]
    let h: Conv2d
    let ln: LayerNorm?
    let proj: Linear
    let dim: Int
    let normalize: Bool
    let dropout: Double

    /// - Parameters:
    ///   - levels: focal levels L
    ///   - window: kernel of level 0 (odd, so that the maps keep their size)
    ///   - normalize: divide the aggregated context by L + 1
    ///   - postLN: `use_postln_in_modulation` (LayerNorm before `proj`)
    ///   - dropout: after `proj` (training)
    init(_ p: ModulePath, dim: Int, levels: Int, window: Int, normalize: Bool, postLN: Bool, dropout: Double) {
        precondition(levels >= 1 && window >= 1 && window % 2 == 1, "FocalModulation: odd window and L >= 1 expected")
        path = p
        f = Linear(p / "f", inFeatures: dim, outFeatures: 2 * dim + levels + 1)
        focalLayers = (0..<levels).map { l in
            let k = window + 2 * l
            return Conv2d(
                p / "focal_layers" / l / 0, inChannels: dim, outChannels: dim, kernelSize: k, padding: k / 2,
                groups: dim, bias: false)
        }
        h = Conv2d(p / "h", inChannels: dim, outChannels: dim, kernelSize: 1)
        ln = postLN ? LayerNorm(p / "ln", dim, eps: 1e-5) : nil
        proj = Linear(p / "proj", inFeatures: dim, outFeatures: dim)
        self.dim = dim
        self.normalize = normalize
        self.dropout = dropout
    }

    var levels: Int { focalLayers.count }

    /// - Parameter x: [B, H, W, C]
    /// - Returns: [B, H, W, C] contiguous
    func callAsFunction(_ x: Tensor, training: Bool, generator: Generator?) -> Tensor {
        let c = dim
        let projected = f(x)  // [B, H, W, 2C + L + 1]
        let q = projected.narrow(dim: 3, start: 0, length: c)
        let gates = projected.narrow(dim: 3, start: 2 * c, length: levels + 1).permute(0, 3, 1, 2)  // [B, L+1, H, W]
        // [B, C, H, W] channels-last: one copy packs the context channels for the convolutions.
        var context = projected.narrow(dim: 3, start: c, length: c).permute(0, 3, 1, 2).contiguous(.channelsLast)
        var aggregated: Tensor?
        for (l, conv) in focalLayers.enumerated() {
            context = conv(context).gelu()
            let gate = gates.narrow(dim: 1, start: l, length: 1)  // [B, 1, H, W]
            aggregated = aggregated.map { $0.addcmul(context, gate) } ?? context * gate
        }
        let global = context.mean(dims: [2, 3], keepDim: true).gelu()  // [B, C, 1, 1]
        let sum = aggregated!.addcmul(global, gates.narrow(dim: 1, start: levels, length: 1))
        // h(sum / (L+1)) = (W_h / (L+1)) · sum + b_h: the scale goes into the small [C, C] weight.
        var weight = h.weight.view([c, c])
        if normalize { weight = weight / Double(levels + 1) }
        let modulator = Tensor.linear(sum.permute(0, 2, 3, 1), weight: weight, bias: h.bias)  // [B, H, W, C]
        var out = q * modulator
        if let ln { out = ln(out) }
        out = proj(out)
        guard training && dropout > 0 else { return out }
        return Functional.dropout(out, p: dropout, training: true, generator: generator)
    }
}
