import Torch

/// 2-D convolution (`nn.Conv2d`, zero padding). Keys: `weight` [out, in/groups, kh, kw], `bias` [out].
public struct Conv2d: Module, Layer {
    public let path: ModulePath
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let dilation: (Int, Int)
    public let groups: Int

    /// Initialised like PyTorch: kaiming_uniform_(a=sqrt(5)) weight, U(±1/sqrt(fanIn)) bias.
    public init(
        _ p: ModulePath, inChannels: Int, outChannels: Int, kernelSize: (Int, Int),
        stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
        groups: Int = 1, bias: Bool = true
    ) {
        precondition(
            inChannels % groups == 0 && outChannels % groups == 0,
            "Conv2d \(p): channels \(inChannels)->\(outChannels) not divisible by groups \(groups)")
        path = p
        let shape = [outChannels, inChannels / groups, kernelSize.0, kernelSize.1]
        weight = p.parameter("weight", shape: shape, initializer: .torchDefaultWeight)
        let fanIn = ParameterInit.fans(shape).fanIn
        self.bias = bias ? p.parameter("bias", shape: [outChannels], initializer: .torchDefaultBias(fanIn: fanIn)) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    /// Square kernel, equal stride/padding/dilation in both directions.
    public init(
        _ p: ModulePath, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
        padding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true
    ) {
        self.init(
            p, inChannels: inChannels, outChannels: outChannels, kernelSize: (kernelSize, kernelSize),
            stride: (stride, stride), padding: (padding, padding), dilation: (dilation, dilation),
            groups: groups, bias: bias)
    }

    public var inChannels: Int { weight.size(1) * groups }
    public var outChannels: Int { weight.size(0) }

    /// - Parameter x: [B, in, H, W]
    /// - Returns: [B, out, H', W'] with H' = (H + 2·pad - dil·(k-1) - 1) / stride + 1
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Functional.conv2d(
            x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
            groups: groups)
    }

    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor { self(x) }
}
