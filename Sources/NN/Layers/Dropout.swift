import Torch

/// Zeroes elements with probability `p` and scales the kept ones by 1/(1-p) in training;
/// the identity in evaluation (`nn.Dropout`). Draws from `generator` when given (reproducible),
/// otherwise from libtorch's global generator.
public struct Dropout: Layer {
    public let p: Double
    public let generator: Generator?

    public init(p: Double, generator: Generator? = nil) {
        precondition(p >= 0 && p <= 1, "Dropout probability must be in [0, 1], got \(p)")
        self.p = p
        self.generator = generator
    }

    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        Functional.dropout(x, p: p, training: training, generator: generator)
    }
}
