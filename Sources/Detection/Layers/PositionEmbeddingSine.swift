import Foundation
import Torch

/// The normalised sine position embedding of DETR (Salience DETR adds `offset` −0.5).
public struct PositionEmbeddingSine: Sendable {
    /// Features per coordinate (embed_dim / 2).
    public let numPosFeats: Int
    public let temperature: Double
    public let offset: Double
    static let eps = 1e-6
    static let scale = 2 * Double.pi

    public init(numPosFeats: Int, temperature: Double = 10000, offset: Double = 0) {
        self.numPosFeats = numPosFeats
        self.temperature = temperature
        self.offset = offset
    }

    /// temperature^(2·floor(i/2)/numPosFeats), i = 0..<numPosFeats, float32, on `device`. [numPosFeats]
    public func dimT(device: Device = .cpu) -> Tensor {
        let i = Tensor.arange(from: 0, to: Double(numPosFeats), dtype: .float32, device: device)
        return Tensor(scalar: Float(temperature)).to(device).pow(i.floorDivide(2) * 2 / numPosFeats)
    }

    /// - Parameter mask: [B, h, w] bool, true = padding
    /// - Returns: [B, 2·numPosFeats, h, w] (y features first, sin/cos interleaved)
    public func callAsFunction(mask: Tensor) -> Tensor {
        let d = dimT(device: mask.device)
        return callAsFunction(mask: mask, dimTx: d, dimTy: d)
    }

    /// The embedding with given frequency tables (a checkpoint's buffers).
    /// - Parameters:
    ///   - mask: [B, h, w] bool, true = padding
    ///   - dimTx, dimTy: [numPosFeats] divisors of the x and y coordinates
    /// - Returns: [B, 2·numPosFeats, h, w] (y features first, sin/cos interleaved)
    public func callAsFunction(mask: Tensor, dimTx: Tensor, dimTy: Tensor) -> Tensor {
        let notMask = mask.logicalNot()
        var y = notMask.cumsum(dim: 1).to(dimTy.dtype)
        var x = notMask.cumsum(dim: 2).to(dimTx.dtype)
        y = (y + offset) / (y.slice(dim: 1, start: -1) + Self.eps) * Self.scale
        x = (x + offset) / (x.slice(dim: 2, start: -1) + Self.eps) * Self.scale
        // A row or column that is all padding has a cumulative sum of 0, and with Salience
        // DETR's offset its coordinate is −0.5 / 1e-6 · 2π ≈ −3.1e6, where one unit in the last
        // place of the angle is 0.25 rad: exports must divide by the tables exactly as libtorch
        // does.
        let posX = Self.interleave(x.unsqueeze(-1).dividedCorrectlyRounded(by: dimTx))
        let posY = Self.interleave(y.unsqueeze(-1).dividedCorrectlyRounded(by: dimTy))
        return Tensor.cat([posY, posX], dim: 3).permute(0, 3, 1, 2)
    }

    /// stack(sin(even), cos(odd)) flattened on the last dimension. [..., n] -> [..., n]
    static func interleave(_ v: Tensor) -> Tensor {
        let s = v.slice(dim: -1, start: 0, step: 2).sin()
        let c = v.slice(dim: -1, start: 1, step: 2).cos()
        return Tensor.stack([s, c], dim: -1).flatten(startDim: -2)
    }

    /// Sine embedding of normalised coordinates, one block of `numPosFeats` per coordinate,
    /// ordered (y, x, w, h) — the query embedding of both decoders (no normalisation, no eps).
    /// - Parameter coords: [..., k] with k = 2 (x, y) or 4 (x, y, w, h)
    /// - Returns: [..., k·numPosFeats]
    public func embedCoordinates(_ coords: Tensor) -> Tensor {
        let d = dimT(device: coords.device)
        let k = coords.size(-1)
        var parts: [Tensor] = []
        for c in 0..<k {
            parts.append(Self.interleave(coords.select(dim: -1, index: c).unsqueeze(-1) * Self.scale / d))
        }
        // Official order: y, x, then w, h.
        var ordered = [parts[1], parts[0]]
        if k == 4 { ordered += [parts[2], parts[3]] }
        return Tensor.cat(ordered, dim: -1)
    }
}
