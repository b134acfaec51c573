import Foundation
import Torch

/// An 8-bit RGB image with interleaved pixels (row-major, HWC).
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `height * width * 3` bytes, RGB.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "Image: \(pixels.count) bytes for \(width)x\(height) RGB")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A solid-colour image.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            px[3 * i] = fill.0
            px[3 * i + 1] = fill.1
            px[3 * i + 2] = fill.2
        }
        self.init(width: width, height: height, pixels: px)
    }

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
