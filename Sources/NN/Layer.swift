import Torch

/// A module (or parameter-free function) mapping one tensor to one tensor, so it can sit in a
/// `Sequential`. Layers whose behaviour does not depend on `training` also offer `layer(x)`.
public protocol Layer {
    func callAsFunction(_ x: Tensor, training: Bool) -> Tensor
}
