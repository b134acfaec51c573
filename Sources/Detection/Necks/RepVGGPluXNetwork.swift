import NN
import Torch

/// Salience DETR's transformer neck `RepVGGPluXNetwork`: a path-aggregation network over the
/// encoder's multi-level maps (all with the same channel count here), built from CSPRepPluX
/// layers with BatchNorm2d and SiLU.
///
/// Top-down, from the coarsest level: the running top map goes through `lateral_convs[i-1]`
/// (stored back as level i's lateral output), is upsampled (nearest) to level i−1 and
/// concatenated with that level's input before `layer_blocks[i-1]`. Bottom-up: the running
/// output is downsampled by `downsample_blocks[i]` (3×3, stride 2), concatenated with level i+1's
/// lateral output and fused by `pan_blocks[i]`.
/// Keys: `lateral_convs.<i>.*`, `layer_blocks.<i>.*`, `downsample_blocks.<i>.*`, `pan_blocks.<i>.*`.
struct RepVGGPluXNetwork: Module {
    let path: ModulePath
    let lateralConvs: ModuleList<ConvNormActivation>
    let layerBlocks: ModuleList<CSPRepPluXLayer>
    let downsampleBlocks: ModuleList<ConvNormActivation>
    let panBlocks: ModuleList<CSPRepPluXLayer>

    /// Convolutions initialised kaiming_uniform(a=1) with zero biases, as the official network.
    init(_ p: ModulePath, channels c: Int, levels: Int, groups: Int) {
        precondition(levels >= 2, "RepVGGPluXNetwork \(p): needs at least 2 levels")
        path = p
        let silu = Activation.silu
        lateralConvs = ModuleList(p / "lateral_convs", count: levels - 1) { q, _ in
            ConvNormActivation(q, inChannels: c, outChannels: c, kernelSize: 1, norm: .batchNorm, activation: silu)
        }
        layerBlocks = ModuleList(p / "layer_blocks", count: levels - 1) { q, _ in
            CSPRepPluXLayer(q, inChannels: 2 * c, outChannels: c, groups: groups, activation: silu)
        }
        downsampleBlocks = ModuleList(p / "downsample_blocks", count: levels - 1) { q, _ in
            ConvNormActivation(
                q, inChannels: c, outChannels: c, kernelSize: 3, stride: 2, padding: 1, norm: .batchNorm,
                activation: silu)
        }
        panBlocks = ModuleList(p / "pan_blocks", count: levels - 1) { q, _ in
            CSPRepPluXLayer(q, inChannels: 2 * c, outChannels: c, groups: groups, activation: silu)
        }
        let store = p.store
        withNoGrad {
            for (key, t) in namedParameters() {
                if t.rank == 4 {
                    t.copy_(
                        ParameterInit.kaimingUniform(a: 1).make(
                            shape: t.shape, dtype: store.dtype, generator: store.generator))
                } else if key.hasSuffix("conv_mask.bias") {
                    t.zero_()
                }
            }
        }
    }

    /// - Parameters:
    ///   - maps: [B, C, h_l, w_l] per level, finest first
    ///   - training: BatchNorm2d batch statistics (and running-stat updates) when true
    ///   - batchStatistics: synchronises those statistics across data-parallel processes
    /// - Returns: the fused maps, same shapes
    func callAsFunction(
        _ maps: [Tensor], training: Bool, batchStatistics: (any BatchStatisticsReducer)? = nil
    ) -> [Tensor] {
        precondition(
            maps.count == layerBlocks.count + 1, "RepVGGPluXNetwork \(path): expected \(layerBlocks.count + 1) maps")
        // Top-down: inner[0] is the running (finest so far) map; inner[1...] the lateral outputs.
        var inner = [maps[maps.count - 1]]
        for i in stride(from: maps.count - 1, to: 0, by: -1) {
            let high = lateralConvs[i - 1](inner[0], training: training, batchStatistics: batchStatistics)
            inner[0] = high
            let low = maps[i - 1]
            let up = Functional.interpolate(high, size: (low.size(2), low.size(3)), mode: .nearest)
            inner.insert(
                layerBlocks[i - 1](
                    Tensor.cat([up, low], dim: 1), training: training, batchStatistics: batchStatistics),
                at: 0)
        }
        // Bottom-up.
        var results = [inner[0]]
        for i in 0..<(inner.count - 1) {
            let down = downsampleBlocks[i](
                results[results.count - 1], training: training, batchStatistics: batchStatistics)
            results.append(
                panBlocks[i](
                    Tensor.cat([down, inner[i + 1]], dim: 1), training: training, batchStatistics: batchStatistics))
        }
        return results
    }
}
