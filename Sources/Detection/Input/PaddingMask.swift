import Torch

/// The padding mask at a feature map's resolution, as both official models make it: the image
/// mask resized by nearest-neighbour interpolation (DETR's `NestedTensor` rule).
/// - Parameter mask: [B, H, W] bool, true = padding
/// - Returns: [B, height, width] bool
func paddingMask(_ mask: Tensor, height: Int, width: Int) -> Tensor {
    Functional.interpolate(mask.unsqueeze(0).to(.float32), size: (height, width), mode: .nearest)
        .squeeze(dim: 0).to(.bool)
}
