import CTorch
import Foundation

// Multi-scale deformable attention (Deformable DETR, Salience DETR): the sampling core,
// after the projections. Two implementations with one signature: a fused CPU kernel with
// its own backward, and the official pure-PyTorch composition over `gridSample` (the test
// oracle, and the path for non-CPU tensors).
extension Functional {
    /// Multi-scale deformable attention sampling, fused (`MultiScaleDeformableAttnFunction`).
    ///
    /// For every batch `b`, query `q` and head `h`:
    /// `out[b, q, h*D..<(h+1)*D] = Σ_{l,p} w[b,q,h,l,p] · bilinear(value_l[b, :, h, :], x·W_l − 0.5, y·H_l − 0.5)`
    /// with corners outside level `l` reading zero — the result of `gridSample` (bilinear, zero
    /// padding, `alignCorners: false`) on `2·loc − 1`, i.e. `multi_scale_deformable_attn_pytorch`.
    ///
    /// bfloat16/float16 inputs (mixed precision) are upcast: the result is then float32.
    /// CPU float32/float64 tensors run a fused kernel (gradients for `value`, `samplingLocations`
    /// and `attentionWeights`; differentiable once, not twice). Tensors on other devices take
    /// `msDeformAttnGridSample`. Mismatched shapes fail like any libtorch error (trap, or
    /// `TorchError.libtorch` inside `Torch.catching`).
    /// - Parameters:
    ///   - value: [B, S, H, D] with S = Σ_l H_l·W_l, levels concatenated, each row-major (y, x).
    ///   - spatialShapes: [L, 2] int64, (H_l, W_l) per level.
    ///   - levelStartIndex: [L] int64, first row of each level in `value`.
    ///   - samplingLocations: [B, Q, H, L, P, 2], (x, y) normalised to [0, 1] per level.
    ///   - attentionWeights: [B, Q, H, L, P] (already softmaxed over L·P).
    /// - Returns: [B, Q, H·D].
    public static func msDeformAttn(
        value: Tensor, spatialShapes: Tensor, levelStartIndex: Tensor,
        samplingLocations: Tensor, attentionWeights: Tensor
    ) -> Tensor {
        // Under mixed precision the sampling runs in float32 (the fused kernel takes one
        // float32/float64 dtype), as the official op does under autocast: reduced-precision
        // inputs (a bfloat16 value projection, say) are upcast and the result is float32.
        let inputs = [value, samplingLocations, attentionWeights]
        if inputs.contains(where: { $0.dtype == .bfloat16 || $0.dtype == .float16 }) {
            return msDeformAttn(
                value: value.to(.float32), spatialShapes: spatialShapes, levelStartIndex: levelStartIndex,
                samplingLocations: samplingLocations.to(.float32), attentionWeights: attentionWeights.to(.float32))
        }
        if case .cuda = value.device, MSDeformAttnSettings.useCUDAKernel, !MSDeformAttnSettings.forceGridSample,
            MSDeformAttnSettings.cudaKernelAvailable
        {
            return Tensor(
                checking: ct_ms_deform_attn_cuda(
                    value.handle, spatialShapes.handle, levelStartIndex.handle,
                    samplingLocations.handle, attentionWeights.handle))
        }
        // A recording takes the composition: it is made of operators every export has.
        guard value.device == .cpu && !MSDeformAttnSettings.forceGridSample && !OperationTrace.isRecordingGraph else {
            return msDeformAttnGridSample(
                value: value, spatialShapes: spatialShapes, levelStartIndex: levelStartIndex,
                samplingLocations: samplingLocations, attentionWeights: attentionWeights)
        }
        return Tensor(
            checking: ct_ms_deform_attn(
                value.handle, spatialShapes.handle, levelStartIndex.handle,
                samplingLocations.handle, attentionWeights.handle))
    }

    /// Multi-scale deformable attention as the official pure-PyTorch composition: per level,
    /// `gridSample` of value viewed as [B·H, D, H_l, W_l] at `2·loc − 1`, then the weighted sum.
    /// Same arguments, result and semantics as `msDeformAttn`; works on any device and dtype
    /// `gridSample` supports, differentiable through ordinary autograd. Slower and heavier in
    /// memory (it materialises every sample [B·H, D, Q, L·P]).
    /// - Returns: [B, Q, H·D].
    public static func msDeformAttnGridSample(
        value: Tensor, spatialShapes: Tensor, levelStartIndex: Tensor,
        samplingLocations: Tensor, attentionWeights: Tensor
    ) -> Tensor {
        if let problem = msDeformAttnShapeProblem(
            value, spatialShapes, levelStartIndex, samplingLocations,
            attentionWeights)
        {
            Torch.fail("ms_deform_attn: \(problem)")
            return Tensor(owning: ct_undefined())
        }
        let (b, heads, d) = (value.size(0), value.size(2), value.size(3))
        let (q, levels, points) = (samplingLocations.size(1), samplingLocations.size(3), samplingLocations.size(4))
        let shapes = spatialShapes.toArray(Int64.self).map(Int.init)
        let starts = levelStartIndex.toArray(Int64.self).map(Int.init)
        let grids = samplingLocations * 2 - 1  // [B, Q, H, L, P, 2]
        var sampled: [Tensor] = []
        sampled.reserveCapacity(levels)
        for l in 0..<levels {
            let (hl, wl) = (shapes[2 * l], shapes[2 * l + 1])
            let valueL = value.narrow(dim: 1, start: starts[l], length: hl * wl)  // [B, H_l·W_l, H, D]
                .flatten(startDim: 2).transpose(1, 2).reshape([b * heads, d, hl, wl])
            let gridL = grids.select(dim: 3, index: l).transpose(1, 2)  // [B, H, Q, P, 2]
                .flatten(startDim: 0, endDim: 1)  // [B·H, Q, P, 2]
            sampled.append(gridSample(valueL, grid: gridL))  // [B·H, D, Q, P]
        }
        let weights = attentionWeights.transpose(1, 2).reshape([b * heads, 1, q, levels * points])
        let out = (Tensor.stack(sampled, dim: -2).flatten(startDim: -2) * weights)  // [B·H, D, Q, L·P]
            .sum(dim: -1).view([b, heads * d, q])
        return out.transpose(1, 2).contiguous()  // [B, Q, H·D]
    }

    /// A readable description of the first rank/size mismatch the composition cannot index past
    /// (the remaining mismatches fail inside libtorch ops with their own messages).
    private static func msDeformAttnShapeProblem(
        _ value: Tensor, _ spatialShapes: Tensor, _ levelStartIndex: Tensor,
        _ samplingLocations: Tensor, _ attentionWeights: Tensor
    ) -> String? {
        guard value.rank == 4 else { return "value must be [B, S, H, D], got \(value.shape)" }
        guard samplingLocations.rank == 6, samplingLocations.size(5) == 2 else {
            return "sampling_locations must be [B, Q, H, L, P, 2], got \(samplingLocations.shape)"
        }
        guard attentionWeights.shape == Array(samplingLocations.shape.prefix(5)) else {
            return
                "attention_weights must be \(Array(samplingLocations.shape.prefix(5))), got \(attentionWeights.shape)"
        }
        let levels = samplingLocations.size(3)
        guard spatialShapes.shape == [levels, 2], !spatialShapes.dtype.isFloatingPoint else {
            return "spatial_shapes must be integer [\(levels), 2], got \(spatialShapes.shape) \(spatialShapes.dtype)"
        }
        guard levelStartIndex.shape == [levels], !levelStartIndex.dtype.isFloatingPoint else {
            return
                "level_start_index must be integer [\(levels)], got \(levelStartIndex.shape) \(levelStartIndex.dtype)"
        }
        let shapes = spatialShapes.toArray(Int64.self), starts = levelStartIndex.toArray(Int64.self)
        let rows = value.size(1)
        for l in 0..<levels {
            let n = shapes[2 * l] * shapes[2 * l + 1]
            guard shapes[2 * l] >= 0, shapes[2 * l + 1] >= 0, starts[l] >= 0, starts[l] + n <= rows else {
                return
                    """
                    level \(l) (start \(starts[l]), \(shapes[2 * l])x\(shapes[2 * l + 1])) exceeds value's \(rows) \
                    rows
                    """
            }
        }
        return nil
    }
}

/// Process-wide choice of the deformable-attention implementation (benchmarks compare both).
public enum MSDeformAttnSettings {
    /// When true, `Functional.msDeformAttn` uses the grid_sample composition even on CPU.
    nonisolated(unsafe) public static var forceGridSample = false
    /// When true, CUDA tensors take the shim's CUDA kernels (if this build of the shim has them,
    /// `cudaKernelAvailable`) instead of the grid_sample composition. Off by default until the
    /// kernels have been checked on a GPU against the composition; `DETR_MSDA_CUDA=1` turns it on.
    nonisolated(unsafe) public static var useCUDAKernel = ProcessInfo.processInfo.environment["DETR_MSDA_CUDA"] == "1"
    /// Whether the linked shim was built with the CUDA kernels (nvcc).
    public static var cudaKernelAvailable: Bool { ct_ms_deform_attn_cuda_available() }
}
