import Torch

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

    /// Pads normalised images [3, h_i, w_i] to a common size (rounded up to a multiple of
    /// `sizeDivisor`) and builds the padding mask.
    public static func collate(
        _ images: [Tensor], originalSizes: [(height: Int, width: Int)],
        sizeDivisor: Int = 1
    ) -> ImageBatch {
        precondition(!images.isEmpty && images.count == originalSizes.count, "collate: empty or mismatched batch")
        let sizes = images.map { (height: $0.size(1), width: $0.size(2)) }
        func roundUp(_ v: Int) -> Int { (v + sizeDivisor - 1) / sizeDivisor * sizeDivisor }
        let H = roundUp(sizes.map(\.height).max()!), W = roundUp(sizes.map(\.width).max()!)
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
