import Torch
import Vision

/// Images as libtorch tensors, the form the models take them in.
extension Image {
    /// The image as a uint8 tensor [3, H, W].
    public func tensor() -> Tensor {
        Tensor(pixels, shape: [height, width, 3]).permute(2, 0, 1).contiguous()
    }

    /// An image from a uint8 (or other, clamped and rounded) tensor [3, H, W].
    public init(tensor: Tensor) throws {
        guard tensor.rank == 3, tensor.size(0) == 3 else {
            throw TorchError.invalidArgument("Image(tensor:): expected [3, H, W], got \(tensor.shape)")
        }
        let t = tensor.dtype == .uint8 ? tensor : tensor.round().clamp(min: 0, max: 255).to(.uint8)
        let hwc = t.permute(1, 2, 0).contiguous()
        self.init(width: tensor.size(2), height: tensor.size(1), pixels: hwc.toArray(UInt8.self))
    }
}
