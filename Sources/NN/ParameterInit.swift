import Foundation
import Torch

/// How a new parameter or buffer is filled (the `torch.nn.init` functions).
///
/// Fans follow `torch.nn.init._calculate_fan_in_and_fan_out`: for a weight of shape
/// [out, in, k...], fanIn = in * prod(k) and fanOut = out * prod(k).
public enum ParameterInit: Sendable {
    case zeros
    case ones
    case constant(Double)
    /// U(low, high).
    case uniform(low: Double, high: Double)
    /// N(mean, std²).
    case normal(mean: Double, std: Double)
    /// U(-a, a) with a = gain * sqrt(6 / (fanIn + fanOut)) (`xavier_uniform_`).
    case xavierUniform(gain: Double = 1)
    /// N(0, std²) with std = gain * sqrt(2 / (fanIn + fanOut)) (`xavier_normal_`).
    case xavierNormal(gain: Double = 1)
    /// U(-b, b) with b = sqrt(2 / (1 + a²)) * sqrt(3 / fanIn): `kaiming_uniform_(a=a)`, leaky-ReLU gain.
    /// `a = sqrt(5)` is the default initialisation of `nn.Linear` and `nn.Conv2d` weights.
    case kaimingUniform(a: Double)
    /// N(0, std²) with std = sqrt(2) / sqrt(fan): `kaiming_normal_(mode=fan_in|fan_out, nonlinearity="relu")`.
    case kaimingNormalReLU(fanOut: Bool)

    /// Fan-in and fan-out of a weight shape (at least 2-D).
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "fan in and fan out need a tensor of at least 2 dimensions, got \(shape)")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// A new tensor of `shape` and `dtype` filled as described (CPU).
    public func make(shape: [Int], dtype: DType, generator: Generator?) -> Tensor {
        withNoGrad {
            switch self {
            case .zeros:
                return Tensor.zeros(shape, dtype: dtype)
            case .ones:
                return Tensor.ones(shape, dtype: dtype)
            case .constant(let v):
                return Tensor.full(shape, v, dtype: dtype)
            case .uniform(let low, let high):
                return Tensor.empty(shape, dtype: dtype).uniform_(low, high, generator: generator)
            case .normal(let mean, let std):
                return Tensor.empty(shape, dtype: dtype).normal_(mean: mean, std: std, generator: generator)
            case .xavierUniform(let gain):
                let (fanIn, fanOut) = Self.fans(shape)
                let a = sqrt(3.0) * gain * sqrt(2.0 / Double(fanIn + fanOut))
                return Tensor.empty(shape, dtype: dtype).uniform_(-a, a, generator: generator)
            case .xavierNormal(let gain):
                let (fanIn, fanOut) = Self.fans(shape)
                let std = gain * sqrt(2.0 / Double(fanIn + fanOut))
                return Tensor.empty(shape, dtype: dtype).normal_(mean: 0, std: std, generator: generator)
            case .kaimingUniform(let a):
                let bound = sqrt(2.0 / (1 + a * a)) * sqrt(3.0 / Double(Self.fans(shape).fanIn))
                return Tensor.empty(shape, dtype: dtype).uniform_(-bound, bound, generator: generator)
            case .kaimingNormalReLU(let fanOut):
                let f = fanOut ? Self.fans(shape).fanOut : Self.fans(shape).fanIn
                let std = sqrt(2.0) / sqrt(Double(f))
                return Tensor.empty(shape, dtype: dtype).normal_(mean: 0, std: std, generator: generator)
            }
        }
    }

    /// The default initialisation of a `nn.Linear` / `nn.Conv2d` weight: kaiming_uniform_(a=sqrt(5)).
    public static var torchDefaultWeight: ParameterInit { .kaimingUniform(a: sqrt(5.0)) }

    /// The default initialisation of a `nn.Linear` / `nn.Conv2d` bias: U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
    public static func torchDefaultBias(fanIn: Int) -> ParameterInit {
        let bound = fanIn > 0 ? 1 / sqrt(Double(fanIn)) : 0
        return .uniform(low: -bound, high: bound)
    }
}
