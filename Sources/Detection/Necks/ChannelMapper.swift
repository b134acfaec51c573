import NN
import Torch

/// Salience DETR's `ChannelMapper` neck: maps each backbone output to `outChannels` with a
/// 1×1 convolution (no bias) + GroupNorm(32), and adds levels (3×3 stride-2 convolution + GroupNorm)
/// when `numOuts` exceeds the inputs: the first extra level reads the RAW last backbone output,
/// later ones the previous extra level. Keys: `convs.<i>.0.weight`, `convs.<i>.1.{weight,bias}`.
struct ChannelMapper: Module {
    let path: ModulePath
    let convs: ModuleList<ConvNormActivation>
    let inputCount: Int

    /// Convolutions Xavier-uniform initialised, as the official neck.
    init(_ p: ModulePath, inChannels: [Int], outChannels: Int, numOuts: Int, groupNormGroups: Int = 32) {
        precondition(
            !inChannels.isEmpty && numOuts >= inChannels.count,
            "ChannelMapper \(p): \(inChannels.count) inputs, \(numOuts) outputs")
        path = p
        inputCount = inChannels.count
        convs = ModuleList(p / "convs", count: numOuts) { q, i in
            if i < inChannels.count {
                return ConvNormActivation(
                    q, inChannels: inChannels[i], outChannels: outChannels, kernelSize: 1,
                    norm: .groupNorm(groups: groupNormGroups), activation: nil)
            }
            let input = i == inChannels.count ? inChannels[inChannels.count - 1] : outChannels
            return ConvNormActivation(
                q, inChannels: input, outChannels: outChannels, kernelSize: 3, stride: 2,
                padding: 1, norm: .groupNorm(groups: groupNormGroups), activation: nil)
        }
        let store = p.store
        withNoGrad {
            for c in convs {
                c.conv.weight.copy_(
                    ParameterInit.xavierUniform().make(
                        shape: c.conv.weight.shape, dtype: store.dtype,
                        generator: store.generator))
            }
        }
    }

    /// - Parameter inputs: backbone outputs [B, C_i, h_i, w_i], finest first
    /// - Returns: `numOuts` maps [B, outChannels, h_l, w_l], finest first
    func callAsFunction(_ inputs: [Tensor]) -> [Tensor] {
        precondition(
            inputs.count == inputCount, "ChannelMapper \(path): expected \(inputCount) inputs, got \(inputs.count)")
        var outs = (0..<inputCount).map { convs[$0](inputs[$0], training: false) }
        for i in inputCount..<convs.count {
            outs.append(convs[i](i == inputCount ? inputs[inputCount - 1] : outs[outs.count - 1], training: false))
        }
        return outs
    }
}
