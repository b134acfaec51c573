import Torch

/// The padding mask at a feature map's resolution, as both official models make it: the image
/// mask resized by nearest-neighbour interpolation (DETR's `NestedTensor` rule).
/// - Parameter mask: [B, H, W] bool, true = padding
/// - Returns: [B, height, width] bool
func paddingMask(_ mask: Tensor, height: Int, width: Int) -> Tensor {
    Functional.interpolate(mask.unsqueeze(0).to(.float32), size: (height, width), mode: .nearest)
        .squeeze(dim: 0).to(.bool)
}

extension ImageBatch {
    /// The padding mask of a batch padded to `height` x `width` whose images have the valid sizes
    /// `imageSizes` (the mask `collate` writes, made with tensor operations).
    /// - Parameter imageSizes: [B, 2] int64, (h, w) per image
    /// - Returns: [B, height, width] bool, true = padding
    public static func paddingMask(imageSizes: Tensor, height: Int, width: Int) -> Tensor {
        let device = imageSizes.device
        let rows = Tensor.arange(height, device: device).view(1, height, 1)
        let cols = Tensor.arange(width, device: device).view(1, 1, width)
        let h = imageSizes.select(dim: 1, index: 0).view(-1, 1, 1), w = imageSizes.select(dim: 1, index: 1).view(-1, 1, 1)
        return (rows .>= h) .| (cols .>= w)
    }
}
