import NN
import Torch

/// Salience DETR's `PositionEmbeddingSine` as a module: the normalised sine embedding whose
/// frequency tables are persistent buffers `dim_tx` and `dim_ty` [numPosFeats] (checkpoints store
/// them, tied when the temperature is one number). The forward pass uses the buffers, so a
/// checkpoint's tables are what counts.
public struct PositionEmbeddingSineModule: Module {
    public let path: ModulePath
    public let dimTx: Tensor
    public let dimTy: Tensor
    public let sine: PositionEmbeddingSine

    public init(_ p: ModulePath, numPosFeats: Int, temperature: Double, offset: Double) {
        path = p
        sine = PositionEmbeddingSine(numPosFeats: numPosFeats, temperature: temperature, offset: offset)
        dimTx = p.buffer("dim_tx", sine.dimT())
        dimTy = p.buffer("dim_ty", sine.dimT())
    }

    /// - Parameter mask: [B, h, w] bool, true = padding
    /// - Returns: [B, 2·numPosFeats, h, w]: y features, then x features (sin/cos interleaved)
    public func callAsFunction(mask: Tensor) -> Tensor {
        let notMask = mask.logicalNot()
        var y = notMask.cumsum(dim: 1).to(dimTy.dtype)
        var x = notMask.cumsum(dim: 2).to(dimTx.dtype)
        let (offset, eps, scale) = (sine.offset, PositionEmbeddingSine.eps, PositionEmbeddingSine.scale)
        y = (y + offset) / (y.slice(dim: 1, start: -1) + eps) * scale
        x = (x + offset) / (x.slice(dim: 2, start: -1) + eps) * scale
        let posX = PositionEmbeddingSine.interleave(x.unsqueeze(-1) / dimTx)
        let posY = PositionEmbeddingSine.interleave(y.unsqueeze(-1) / dimTy)
        return Tensor.cat([posY, posX], dim: 3).permute(0, 3, 1, 2)
    }
}
