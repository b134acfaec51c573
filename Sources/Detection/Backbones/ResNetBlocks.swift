import NN
import Torch

/// A torchvision ResNet residual block (v1.5: the stride sits in the 3x3 convolution).
protocol ResNetBlockModule: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// A bias-free convolution (at `p / conv`, padded to keep the map size at stride 1) and its
/// frozen batch norm (at `p / bn`).
func convUnit(
    _ p: ModulePath, _ conv: String, _ bn: String, inChannels: Int, outChannels: Int, kernelSize: Int,
    stride: Int = 1, dilation: Int = 1
) -> ConvFrozenBatchNorm {
    ConvFrozenBatchNorm(
        conv: Conv2d(
            p / conv, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
            padding: dilation * (kernelSize - 1) / 2, dilation: dilation, bias: false),
        bn: FrozenBatchNorm2d(p / bn, numFeatures: outChannels))
}

/// conv1x1 + FrozenBN projection on the residual path (`downsample.0`, `downsample.1`).
struct Downsample: Module {
    let path: ModulePath
    let unit: ConvFrozenBatchNorm

    init(_ p: ModulePath, inChannels: Int, outChannels: Int, stride: Int) {
        path = p
        unit = convUnit(p, "0", "1", inChannels: inChannels, outChannels: outChannels, kernelSize: 1, stride: stride)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { unit(x) }
}

/// ReLU(unit(x) + identity), identity = downsample(x) or x: the addition and the ReLU inside the
/// last convolution where oneDNN runs it, which may then write into a downsampled identity (a
/// fresh tensor nothing else holds).
func residualReLU(_ unit: ConvFrozenBatchNorm, _ x: Tensor, input: Tensor, downsample: Downsample?) -> Tensor {
    let identity = downsample?(input) ?? input
    return unit(x, plus: identity, residualIsScratch: downsample != nil, relu: true)
}

/// Bottleneck: 1x1 (width) → 3x3 (width, stride, dilation) → 1x1 (4·planes). Keys conv1..3, bn1..3, downsample.
struct Bottleneck: ResNetBlockModule {
    static let expansion = 4
    let path: ModulePath
    let unit1: ConvFrozenBatchNorm, unit2: ConvFrozenBatchNorm, unit3: ConvFrozenBatchNorm
    let downsample: Downsample?

    init(_ p: ModulePath, inChannels: Int, planes: Int, stride: Int, dilation: Int, downsample: Bool) {
        path = p
        let out = planes * Self.expansion
        unit1 = convUnit(p, "conv1", "bn1", inChannels: inChannels, outChannels: planes, kernelSize: 1)
        unit2 = convUnit(
            p, "conv2", "bn2", inChannels: planes, outChannels: planes, kernelSize: 3, stride: stride,
            dilation: dilation)
        unit3 = convUnit(p, "conv3", "bn3", inChannels: planes, outChannels: out, kernelSize: 1)
        self.downsample =
            downsample ? Downsample(p / "downsample", inChannels: inChannels, outChannels: out, stride: stride) : nil
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        residualReLU(unit3, unit2(unit1(x, relu: true), relu: true), input: x, downsample: downsample)
    }
}

/// Basic block: two 3x3 convolutions. Keys conv1, bn1, conv2, bn2, downsample.
struct BasicBlock: ResNetBlockModule {
    static let expansion = 1
    let path: ModulePath
    let unit1: ConvFrozenBatchNorm, unit2: ConvFrozenBatchNorm
    let downsample: Downsample?

    init(_ p: ModulePath, inChannels: Int, planes: Int, stride: Int, dilation: Int, downsample: Bool) {
        path = p
        unit1 = convUnit(
            p, "conv1", "bn1", inChannels: inChannels, outChannels: planes, kernelSize: 3, stride: stride,
            dilation: dilation)
        unit2 = convUnit(p, "conv2", "bn2", inChannels: planes, outChannels: planes, kernelSize: 3, dilation: dilation)
        self.downsample =
            downsample ? Downsample(p / "downsample", inChannels: inChannels, outChannels: planes, stride: stride) : nil
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        residualReLU(unit2, unit1(x, relu: true), input: x, downsample: downsample)
    }
}
