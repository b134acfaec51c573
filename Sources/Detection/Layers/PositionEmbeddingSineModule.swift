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
        sine(mask: mask, dimTx: dimTx, dimTy: dimTy)
    }
}
