import Torch

/// A parameter-free elementwise function usable as a `Layer` (an entry of a `Sequential`).
public struct Activation: Layer, Sendable {
    public enum Kind: Sendable { case identity, relu, gelu, sigmoid, silu, tanh }
    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public static let identity = Activation(.identity)
    public static let relu = Activation(.relu)
    public static let gelu = Activation(.gelu)
    public static let sigmoid = Activation(.sigmoid)
    public static let silu = Activation(.silu)
    public static let tanh = Activation(.tanh)

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch kind {
        case .identity: x
        case .relu: x.relu()
        case .gelu: x.gelu()
        case .sigmoid: x.sigmoid()
        case .silu: x.silu()
        case .tanh: x.tanh()
        }
    }

    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor { self(x) }
}
