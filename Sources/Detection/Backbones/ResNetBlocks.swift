import NN
import Torch

/// A torchvision ResNet residual block (v1.5: the stride sits in the 3x3 convolution).
protocol ResNetBlockModule: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// conv1x1 + FrozenBN projection on the residual path (`downsample.0`, `downsample.1`).
struct Downsample: Module {
    let path: ModulePath
    let conv: Conv2d
    let bn: FrozenBatchNorm2d

    init(_ p: ModulePath, inChannels: Int, outChannels: Int, stride: Int) {
        path = p
        conv = Conv2d(p / "0", inChannels: inChannels, outChannels: outChannels, kernelSize: 1, stride: stride, bias: false)
        bn = FrozenBatchNorm2d(p / "1", numFeatures: outChannels)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { bn(conv(x)) }
}

/// Bottleneck: 1x1 (width) → 3x3 (width, stride, dilation) → 1x1 (4·planes). Keys conv1..3, bn1..3, downsample.
struct Bottleneck: ResNetBlockModule {
    static let expansion = 4
    let path: ModulePath
    let conv1: Conv2d, bn1: FrozenBatchNorm2d
    let conv2: Conv2d, bn2: FrozenBatchNorm2d
    let conv3: Conv2d, bn3: FrozenBatchNorm2d
    let downsample: Downsample?

    init(_ p: ModulePath, inChannels: Int, planes: Int, stride: Int, dilation: Int, downsample: Bool) {
        path = p
        let out = planes * Self.expansion
        conv1 = Conv2d(p / "conv1", inChannels: inChannels, outChannels: planes, kernelSize: 1, bias: false)
        bn1 = FrozenBatchNorm2d(p / "bn1", numFeatures: planes)
        conv2 = Conv2d(p / "conv2", inChannels: planes, outChannels: planes, kernelSize: 3, stride: stride,
                       padding: dilation, dilation: dilation, bias: false)
        bn2 = FrozenBatchNorm2d(p / "bn2", numFeatures: planes)
        conv3 = Conv2d(p / "conv3", inChannels: planes, outChannels: out, kernelSize: 1, bias: false)
        bn3 = FrozenBatchNorm2d(p / "bn3", numFeatures: out)
        self.downsample = downsample ? Downsample(p / "downsample", inChannels: inChannels, outChannels: out, stride: stride) : nil
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var y = bn1(conv1(x)).relu()
        y = bn2(conv2(y)).relu()
        y = bn3(conv3(y))
        return (y + (downsample?(x) ?? x)).relu()
    }
}

/// Basic block: two 3x3 convolutions. Keys conv1, bn1, conv2, bn2, downsample.
struct BasicBlock: ResNetBlockModule {
    static let expansion = 1
    let path: ModulePath
    let conv1: Conv2d, bn1: FrozenBatchNorm2d
    let conv2: Conv2d, bn2: FrozenBatchNorm2d
    let downsample: Downsample?

    init(_ p: ModulePath, inChannels: Int, planes: Int, stride: Int, dilation: Int, downsample: Bool) {
        path = p
        conv1 = Conv2d(p / "conv1", inChannels: inChannels, outChannels: planes, kernelSize: 3, stride: stride,
                       padding: dilation, dilation: dilation, bias: false)
        bn1 = FrozenBatchNorm2d(p / "bn1", numFeatures: planes)
        conv2 = Conv2d(p / "conv2", inChannels: planes, outChannels: planes, kernelSize: 3, padding: dilation,
                       dilation: dilation, bias: false)
        bn2 = FrozenBatchNorm2d(p / "bn2", numFeatures: planes)
        self.downsample = downsample ? Downsample(p / "downsample", inChannels: inChannels, outChannels: planes, stride: stride) : nil
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var y = bn1(conv1(x)).relu()
        y = bn2(conv2(y))
        return (y + (downsample?(x) ?? x)).relu()
    }
}
