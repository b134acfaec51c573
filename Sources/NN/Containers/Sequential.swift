import Torch

/// Numbered layers of any kind applied in order (`nn.Sequential`): layer `i` is built at
/// `path / i`, so a conv-norm-activation block has keys `0.weight`, `1.weight`, `1.running_mean`...
/// Parameter-free layers (activations) still take an index, as in PyTorch.
///
/// ```swift
/// downsample = Sequential(p / "downsample", [
///     { Conv2d($0, inChannels: 64, outChannels: 256, kernelSize: 1, bias: false) },
///     { FrozenBatchNorm2d($0, numFeatures: 256) },
/// ])
/// let y = downsample(x, training: false)
/// ```
public struct Sequential: Module, Layer {
    public let path: ModulePath
    public let layers: [any Layer]

    /// Builds each layer with its numbered path, in order.
    public init(_ path: ModulePath, _ makers: [(ModulePath) -> any Layer]) {
        self.path = path
        layers = makers.enumerated().map { i, make in make(path / i) }
    }

    public var count: Int { layers.count }

    /// Layer `index` as its concrete type (traps when it has another type).
    public func layer<L: Layer>(_ index: Int, as type: L.Type = L.self) -> L {
        guard let l = layers[index] as? L else {
            preconditionFailure("Sequential \(path): layer \(index) is \(Swift.type(of: layers[index])), not \(L.self)")
        }
        return l
    }

    /// Applies every layer in order.
    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        layers.reduce(x) { $1($0, training: training) }
    }
}
