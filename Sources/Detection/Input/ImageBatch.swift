import Torch
import Vision

/// A padded batch of normalised images, as the detectors consume it.
public struct ImageBatch: @unchecked Sendable {
    /// [B, 3, H, W] float32, zero padding bottom/right.
    public var images: Tensor
    /// [B, H, W] bool, true = padding.
    public var mask: Tensor
    /// (h, w) of each image after resizing, before padding (box normalisation uses these).
    public var imageSizes: [(height: Int, width: Int)]
    /// (h, w) of each original image (post-processing scales boxes to these).
    public var originalSizes: [(height: Int, width: Int)]

    public init(
        images: Tensor, mask: Tensor, imageSizes: [(height: Int, width: Int)],
        originalSizes: [(height: Int, width: Int)]
    ) {
        self.images = images
        self.mask = mask
        self.imageSizes = imageSizes
        self.originalSizes = originalSizes
    }

    public var count: Int { imageSizes.count }

    /// The batch with images and mask on `device` (itself when they are there already).
    public func to(_ device: Device) -> ImageBatch {
        guard images.device != device || mask.device != device else { return self }
        var moved = self
        moved.images = images.to(device)
        moved.mask = mask.to(device)
        return moved
    }

    /// The model input of 8-bit images (already resized): /255 and ImageNet normalisation in
    /// float32 (bit-identical to `EvalTransform.normalize`), padded bottom/right with zeros to the
    /// largest size rounded up to a multiple of `sizeDivisor` (1: Conditional DETR, 32: Salience
    /// DETR), with the padding mask. Every pipeline (prediction, the service, evaluation, training)
    /// makes its batches here: written into one buffer, one tensor per batch instead of a handful
    /// of libtorch operations per image.
    public static func collate(
        _ images: [Image], originalSizes: [(height: Int, width: Int)], sizeDivisor: Int = 1
    ) -> ImageBatch {
        precondition(
            !images.isEmpty && images.count == originalSizes.count && sizeDivisor >= 1,
            "collate: empty or mismatched batch, or a divisor below 1")
        let H = images.map(\.height).max()!.roundedUp(toMultipleOf: sizeDivisor)
        let W = images.map(\.width).max()!.roundedUp(toMultipleOf: sizeDivisor)
        let B = images.count
        var pixels = [Float](repeating: 0, count: B * 3 * H * W)
        var mask = [Bool](repeating: true, count: B * H * W)
        let mean = EvalTransform.imagenetMean, std = EvalTransform.imagenetStd
        // Per-channel lookup tables: (v / 255 - mean) / std evaluated in float32 as torch does.
        let tables: [[Float]] = (0..<3).map { c in (0..<256).map { (Float($0) / 255 - mean[c]) / std[c] } }
        pixels.withUnsafeMutableBufferPointer { dst in
            mask.withUnsafeMutableBufferPointer { m in
                for (b, image) in images.enumerated() {
                    let w = image.width, h = image.height
                    image.pixels.withUnsafeBufferPointer { src in
                        for c in 0..<3 {
                            let plane = (b * 3 + c) * H * W
                            tables[c].withUnsafeBufferPointer { lut in
                                for y in 0..<h {
                                    let row = plane + y * W, srow = y * w * 3 + c
                                    for x in 0..<w { dst[row + x] = lut[Int(src[srow + 3 * x])] }
                                }
                            }
                        }
                    }
                    for y in 0..<h {
                        let row = (b * H + y) * W
                        for x in 0..<w { m[row + x] = false }
                    }
                }
            }
        }
        return ImageBatch(
            images: Tensor(pixels, shape: [B, 3, H, W]), mask: Tensor(mask, shape: [B, H, W]),
            imageSizes: images.map { ($0.height, $0.width) }, originalSizes: originalSizes)
    }

    /// Pads already normalised images [3, h_i, w_i] (any values: benchmarks and tests feed random
    /// ones) to a common size (rounded up to a multiple of
    /// `sizeDivisor`) and builds the padding mask.
    public static func collate(
        _ images: [Tensor], originalSizes: [(height: Int, width: Int)],
        sizeDivisor: Int = 1
    ) -> ImageBatch {
        precondition(!images.isEmpty && images.count == originalSizes.count, "collate: empty or mismatched batch")
        let sizes = images.map { (height: $0.size(1), width: $0.size(2)) }
        let H = sizes.map(\.height).max()!.roundedUp(toMultipleOf: sizeDivisor)
        let W = sizes.map(\.width).max()!.roundedUp(toMultipleOf: sizeDivisor)
        let batch = Tensor.zeros([images.count, 3, H, W], dtype: images[0].dtype, device: images[0].device)
        let mask = Tensor.ones([images.count, H, W], dtype: .bool, device: images[0].device)
        withNoGrad {
            for (i, img) in images.enumerated() {
                let (h, w) = sizes[i]
                batch[i].slice(dim: 1, end: h).slice(dim: 2, end: w).copy_(img)
                mask[i].slice(dim: 0, end: h).slice(dim: 1, end: w).fill_(false)
            }
        }
        return ImageBatch(images: batch, mask: mask, imageSizes: sizes, originalSizes: originalSizes)
    }
}
