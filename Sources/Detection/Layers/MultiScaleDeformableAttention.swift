import Foundation
import NN
import Torch

/// Multi-scale deformable attention (Deformable DETR), as Salience DETR's
/// `MultiScaleDeformableAttention`. Keys: `sampling_offsets`, `attention_weights`, `value_proj`,
/// `output_proj` (Linear each).
public struct MultiScaleDeformableAttention: Module {
    public let path: ModulePath
    let samplingOffsets: Linear
    let attentionWeights: Linear
    let valueProj: Linear
    let outputProj: Linear
    public let embedDim: Int
    public let numHeads: Int
    public let numLevels: Int
    public let numPoints: Int

    /// Initialised like the official module: zero offset weights with a bias fanning the points
    /// of each head out along its direction (i+1 steps for point i), zero attention weights,
    /// Xavier-uniform projections with zero biases.
    public init(_ p: ModulePath, embedDim: Int, numLevels: Int, numHeads: Int, numPoints: Int) {
        precondition(
            embedDim % numHeads == 0, "MultiScaleDeformableAttention \(p): \(embedDim) not divisible by \(numHeads)")
        path = p
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.numLevels = numLevels
        self.numPoints = numPoints
        let sampled = numHeads * numLevels * numPoints
        samplingOffsets = Linear(p / "sampling_offsets", inFeatures: embedDim, outFeatures: sampled * 2)
        attentionWeights = Linear(p / "attention_weights", inFeatures: embedDim, outFeatures: sampled)
        valueProj = Linear(p / "value_proj", inFeatures: embedDim, outFeatures: embedDim)
        outputProj = Linear(p / "output_proj", inFeatures: embedDim, outFeatures: embedDim)
        let store = p.store
        withNoGrad {
            samplingOffsets.weight.zero_()
            samplingOffsets.bias!.copy_(Self.initialOffsets(heads: numHeads, levels: numLevels, points: numPoints))
            attentionWeights.weight.zero_()
            attentionWeights.bias!.zero_()
            for l in [valueProj, outputProj] {
                l.weight.copy_(
                    ParameterInit.xavierUniform().make(
                        shape: l.weight.shape, dtype: store.dtype,
                        generator: store.generator))
                l.bias!.zero_()
            }
        }
    }

    /// Head h points along angle 2πh/H, scaled so the larger component is 1, times (i+1) for point i.
    /// - Returns: [H·L·P·2]
    static func initialOffsets(heads: Int, levels: Int, points: Int) -> Tensor {
        var values: [Float] = []
        for h in 0..<heads {
            let theta = Float(h) * (2 * Float.pi / Float(heads))
            let (c, s) = (cos(theta), sin(theta))
            let m = max(abs(c), abs(s))
            for _ in 0..<levels {
                for i in 0..<points { values += [c / m * Float(i + 1), s / m * Float(i + 1)] }
            }
        }
        return Tensor(values, shape: [values.count])
    }

    /// - Parameters:
    ///   - query: [B, Q, C] (content plus position)
    ///   - referencePoints: [B, Q, L, 2] normalised (x, y), or [B, Q, L, 4] boxes (cx, cy, w, h)
    ///   - value: [B, S, C] flattened multi-level features
    ///   - spatialShapes: (h_l, w_l) per level
    ///   - keyPaddingMask: [B, S] bool, true = padding (its projected values are zeroed)
    /// - Returns: [B, Q, C]
    public func callAsFunction(
        query: Tensor, referencePoints: Tensor, value: Tensor,
        spatialShapes: [(height: Int, width: Int)], keyPaddingMask: Tensor?
    ) -> Tensor {
        let (b, nq) = (query.size(0), query.size(1))
        let nv = value.size(1)
        var v = valueProj(value)
        // In place on the fresh projection (its product saves no output for backward).
        if let keyPaddingMask { v = v.maskedFill_(keyPaddingMask.unsqueeze(-1), Float(0)) }
        v = v.view(b, nv, numHeads, embedDim / numHeads)
        let offsets = samplingOffsets(query).view(b, nq, numHeads, numLevels, numPoints, 2)
        let weights = attentionWeights(query).view(b, nq, numHeads, numLevels * numPoints).softmax(dim: -1)
            .view(b, nq, numHeads, numLevels, numPoints)
        let locations: Tensor
        switch referencePoints.size(-1) {
        case 2:
            // offsets are in pixels of each level: divide by (w_l, h_l)
            let normalizer = Tensor(
                spatialShapes.flatMap { [Float($0.width), Float($0.height)] },
                shape: [1, 1, 1, numLevels, 1, 2]
            ).to(query.dtype).to(query.device)
            locations = referencePoints.reshape(b, nq, 1, numLevels, 1, 2) + offsets / normalizer
        case 4:
            let ref = referencePoints.reshape(b, nq, 1, numLevels, 1, 4)
            let xy = ref.slice(dim: -1, end: 2), wh = ref.slice(dim: -1, start: 2)
            locations = xy + offsets / numPoints * wh * 0.5
        default:
            preconditionFailure(
                "MultiScaleDeformableAttention \(path): reference points must end in 2 or 4, "
                    + "got \(referencePoints.shape)")
        }
        let out = msDeformAttnCore(
            value: v, spatialShapes: spatialShapes, samplingLocations: locations,
            attentionWeights: weights)
        return outputProj(out)
    }
}
