import NN
import Torch

/// FocalNet's stem and its downsampling between stages: the map is zero-padded at the bottom and
/// right to a multiple of `padMultiple`, goes through a strided convolution, and is normalised
/// over channels (LayerNorm, eps 1e-5). Keys: `proj` (convolution with bias), `norm`.
///
/// Overlapping variant (`use_conv_embed`): a 7x7 stride-4 padding-2 stem and 3x3 stride-2
/// padding-1 downsamples; otherwise kernel = stride = patch size.
struct FocalNetPatchEmbed: Module {
    let path: ModulePath
    let proj: Conv2d
    let norm: LayerNorm
    /// The input is padded to multiples of these (h, w): the patch size.
    let padMultiple: (Int, Int)

    /// - Parameters:
    ///   - patchSize: (h, w); the stem's is configurable, the downsamples' is (2, 2)
    ///   - overlapping: `use_conv_embed`
    ///   - stem: the first embedding (7x7/4 instead of 3x3/2 when overlapping)
    init(_ p: ModulePath, inChannels: Int, outChannels: Int, patchSize: (Int, Int), overlapping: Bool, stem: Bool) {
        path = p
        if overlapping {
            proj =
                stem
                ? Conv2d(
                    p / "proj", inChannels: inChannels, outChannels: outChannels, kernelSize: 7, stride: 4, padding: 2)
                : Conv2d(
                    p / "proj", inChannels: inChannels, outChannels: outChannels, kernelSize: 3, stride: 2, padding: 1)
        } else {
            proj = Conv2d(
                p / "proj", inChannels: inChannels, outChannels: outChannels, kernelSize: patchSize, stride: patchSize)
        }
        norm = LayerNorm(p / "norm", outChannels, eps: 1e-5)
        padMultiple = patchSize
    }

    /// - Parameter x: [B, C_in, H, W] (NCHW values in any memory layout; an NHWC map permuted to
    ///   NCHW is read without a copy)
    /// - Returns: [B, H', W', C_out] contiguous NHWC, H' = the convolution's output height of
    ///   H padded up to a multiple of the patch height
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (h, w) = (x.size(2), x.size(3))
        let padBottom = (padMultiple.0 - h % padMultiple.0) % padMultiple.0
        let padRight = (padMultiple.1 - w % padMultiple.1) % padMultiple.1
        var y = x
        if padBottom > 0 || padRight > 0 { y = Functional.pad(y, [0, padRight, 0, padBottom]) }
        // Channels-last convolution: the output's NHWC view below is then contiguous.
        y = proj(y.contiguous(.channelsLast)).permute(0, 2, 3, 1)
        return norm(y)
    }
}
