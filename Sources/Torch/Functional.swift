import CTorch

/// Interpolation modes of `Functional.interpolate`.
public enum InterpolationMode: Int32, Sendable {
    case nearest = 0
    case bilinear = 1
    /// Bilinear with an antialiasing filter when downsampling (`antialias=True`).
    case bilinearAntialias = 2
    case bicubic = 3
}

/// Values `Functional.gridSample` reads outside the input (`padding_mode`).
public enum GridSamplePadding: Int32, Sendable {
    case zeros = 0, border = 1, reflection = 2
}

/// Reduction applied by loss functions.
public enum Reduction: Int32, Sendable {
    case none = 0, mean = 1, sum = 2
}

/// Stateless neural-network functions (the `torch.nn.functional` of this library).
public enum Functional {
    /// 2-D convolution. x [B, Cin, H, W], weight [Cout, Cin/groups, kh, kw]. Under autocast an
    /// inference convolution reads the weights' kept copies (`autocastOperand()`).
    public static func conv2d(
        _ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) -> Tensor {
        let (w, b) = (weight.autocastOperand(), bias?.autocastOperand())
        let y = withExtendedLifetime((w, b)) {
            ct_conv2d(
                x.handle, w.handle, b?.handle, Int64(stride.0), Int64(stride.1),
                Int64(padding.0), Int64(padding.1), Int64(dilation.0), Int64(dilation.1),
                Int64(groups))
        }
        return Tensor(checking: y).traced(
            .conv2d(
                stride: [stride.0, stride.1], padding: [padding.0, padding.1], dilation: [dilation.0, dilation.1],
                groups: groups), [x, weight, bias])
    }

    /// ReLU (when `relu`) of a 2-D convolution plus `residual` (when given, of the output's
    /// shape). Where no input needs a gradient (float32, CPU, outside autocast) it is one oneDNN
    /// convolution that adds and rectifies inside its kernel; otherwise, and while recording, it
    /// is `conv2d` followed by the addition and the ReLU. The values are the same either way.
    /// - Parameter residualIsScratch: the caller no longer needs `residual`, so the fused
    ///   convolution may write its result into it (a little faster than a new tensor)
    public static func conv2d(
        _ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, plus residual: Tensor?,
        residualIsScratch: Bool = false, relu: Bool
    ) -> Tensor {
        if OperationTrace.isRecording {
            var y = conv2d(
                x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
            if let residual { y = y.add_(residual) }
            return relu ? y.relu_() : y
        }
        let (w, b) = (weight.autocastOperand(), bias?.autocastOperand())
        return Tensor(
            checking: withExtendedLifetime((w, b)) {
                ct_conv2d_pointwise(
                    x.handle, w.handle, b?.handle, Int64(stride.0), Int64(stride.1),
                    Int64(padding.0), Int64(padding.1), Int64(dilation.0), Int64(dilation.1),
                    Int64(groups), residual?.handle, residualIsScratch, relu)
            })
    }

    /// softmax(q kᵀ·scale + mask) v through libtorch's fused attention kernels (no dropout).
    /// - Parameters:
    ///   - q: [B, heads, L, d]; k: [B, heads, S, d]; v: [B, heads, S, dv]
    ///   - mask: bool (true = may attend) or float (added to the logits), broadcastable to [B, heads, L, S]
    /// - Returns: [B, heads, L, dv]
    public static func scaledDotProductAttention(
        _ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor? = nil,
        scale: Double
    ) -> Tensor {
        Tensor(checking: ct_scaled_dot_product_attention(q.handle, k.handle, v.handle, mask?.handle, scale))
            .traced(.scaledDotProductAttention(scale: scale), [q, k, v, mask])
    }

    public static func maxPool2d(
        _ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil,
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
        ceilMode: Bool = false
    ) -> Tensor {
        let s = stride ?? kernel
        return Tensor(
            checking: ct_max_pool2d(
                x.handle, Int64(kernel.0), Int64(kernel.1), Int64(s.0), Int64(s.1),
                Int64(padding.0), Int64(padding.1), Int64(dilation.0),
                Int64(dilation.1), ceilMode)
        ).traced(
            .maxPool2d(
                kernel: [kernel.0, kernel.1], stride: [s.0, s.1], padding: [padding.0, padding.1],
                dilation: [dilation.0, dilation.1], ceilMode: ceilMode), [x])
    }

    public static func avgPool2d(
        _ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil,
        padding: (Int, Int) = (0, 0)
    ) -> Tensor {
        let s = stride ?? kernel
        return Tensor(
            checking: ct_avg_pool2d(
                x.handle, Int64(kernel.0), Int64(kernel.1), Int64(s.0), Int64(s.1),
                Int64(padding.0), Int64(padding.1))
        ).traced(.avgPool2d(kernel: [kernel.0, kernel.1], stride: [s.0, s.1], padding: [padding.0, padding.1]), [x])
    }

    public static func adaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
        Tensor(checking: ct_adaptive_avg_pool2d(x.handle, Int64(outputSize.0), Int64(outputSize.1)))
            .traced(.adaptiveAvgPool2d(outputSize: [outputSize.0, outputSize.1]), [x])
    }

    /// Resizes [B, C, H, W] to `size` (h, w), as `F.interpolate(size=...)`.
    public static func interpolate(
        _ x: Tensor, size: (Int, Int), mode: InterpolationMode,
        alignCorners: Bool = false
    ) -> Tensor {
        Tensor(checking: ct_interpolate(x.handle, Int64(size.0), Int64(size.1), mode.rawValue, alignCorners))
            .traced(.interpolate(size: [size.0, size.1], mode: mode, alignCorners: alignCorners), [x])
    }

    /// Samples x [B, C, H, W] at grid [B, Ho, Wo, 2] (x, y in [-1, 1]) -> [B, C, Ho, Wo], as
    /// `F.grid_sample`: bilinear (or nearest), zero padding, `align_corners=False` by default.
    public static func gridSample(
        _ x: Tensor, grid: Tensor, nearest: Bool = false,
        padding: GridSamplePadding = .zeros, alignCorners: Bool = false
    ) -> Tensor {
        Tensor(checking: ct_grid_sample(x.handle, grid.handle, nearest ? 1 : 0, padding.rawValue, alignCorners))
            .traced(.gridSample(nearest: nearest, padding: padding, alignCorners: alignCorners), [x, grid])
    }

    public static func layerNorm(
        _ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?,
        eps: Double = 1e-5
    ) -> Tensor {
        let s = normalizedShape.map(Int64.init)
        return Tensor(checking: ct_layer_norm(x.handle, s, Int64(s.count), weight?.handle, bias?.handle, eps))
            .traced(.layerNorm(normalizedShape: normalizedShape, eps: eps), [x, weight, bias])
    }

    public static func groupNorm(
        _ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5
    )
        -> Tensor
    {
        Tensor(checking: ct_group_norm(x.handle, Int64(groups), weight?.handle, bias?.handle, eps))
            .traced(.groupNorm(groups: groups, eps: eps), [x, weight, bias])
    }

    /// Batch normalisation; in training mode uses batch statistics and updates the running ones in place.
    public static func batchNorm(
        _ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?,
        runningVar: Tensor?, training: Bool, momentum: Double = 0.1,
        eps: Double = 1e-5
    ) -> Tensor {
        Tensor(
            checking: ct_batch_norm(
                x.handle, weight?.handle, bias?.handle, runningMean?.handle,
                runningVar?.handle, training, momentum, eps)
        ).traced(.batchNorm(training: training, eps: eps), [x, weight, bias, runningMean, runningVar])
    }

    /// Zeroes elements with probability `p` and scales the rest by 1/(1-p) when training.
    /// Where dropout masks come from.
    public enum DropoutStream: Sendable {
        /// One draw from the generator seeds a counter-based hash stream computed in parallel
        /// (CPU float32/float64; elsewhere `.torch`). Same distribution as PyTorch's, other numbers;
        /// reproducible from the generator's state. Several times faster than `.torch` on CPU.
        case counterBased
        /// torch's `bernoulli_` stream: the same masks as PyTorch's F.dropout for the same seed.
        case torch
    }

    /// Inverted dropout: zeroes elements with probability p and scales the others by 1/(1-p)
    /// in training; the identity otherwise.
    public static func dropout(
        _ x: Tensor, p: Double, training: Bool, generator: Generator? = nil,
        stream: DropoutStream = .counterBased
    ) -> Tensor {
        Tensor(checking: ct_dropout(x.handle, p, training, generator?.handle, stream == .torch))
            .traced(.dropout(p: p, training: training), [x])
    }

    public static func embedding(_ indices: Tensor, weight: Tensor) -> Tensor {
        Tensor(checking: ct_embedding(weight.handle, indices.handle)).traced(.embedding, [indices, weight])
    }

    public static func oneHot(_ labels: Tensor, numClasses: Int) -> Tensor {
        Tensor(checking: ct_one_hot(labels.handle, Int64(numClasses))).traced(.oneHot(numClasses: numClasses), [labels])
    }

    /// Constant padding with `F.pad` ordering: (left, right, top, bottom, ...) from the last dim.
    public static func pad(_ x: Tensor, _ pads: [Int], value: Double = 0) -> Tensor {
        let p = pads.map(Int64.init)
        return Tensor(checking: ct_pad(x.handle, p, Int64(p.count), value)).traced(.pad(pads, value: value), [x])
    }

    /// Rearranges [B, C*f*f, H, W] into [B, C, H*f, W*f].
    public static func pixelShuffle(_ x: Tensor, factor: Int) -> Tensor {
        Tensor(checking: ct_pixel_shuffle(x.handle, Int64(factor))).traced(.pixelShuffle(factor: factor), [x])
    }

    // MARK: losses

    public static func binaryCrossEntropyWithLogits(
        _ logits: Tensor, _ target: Tensor, weight: Tensor? = nil,
        reduction: Reduction = .mean
    ) -> Tensor {
        Tensor(checking: ct_bce_with_logits(logits.handle, target.handle, weight?.handle, reduction.rawValue))
            .traced(.unsupported("binary_cross_entropy_with_logits"), [logits, target, weight])
    }
    public static func binaryCrossEntropy(
        _ probs: Tensor, _ target: Tensor, weight: Tensor? = nil,
        reduction: Reduction = .mean
    ) -> Tensor {
        Tensor(checking: ct_bce(probs.handle, target.handle, weight?.handle, reduction.rawValue))
            .traced(.unsupported("binary_cross_entropy"), [probs, target, weight])
    }
    public static func l1Loss(_ x: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        Tensor(checking: ct_l1_loss(x.handle, target.handle, reduction.rawValue)).traced(.unsupported("l1_loss"), [x, target])
    }
    public static func mseLoss(_ x: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        Tensor(checking: ct_mse_loss(x.handle, target.handle, reduction.rawValue)).traced(.unsupported("mse_loss"), [x, target])
    }
    public static func smoothL1Loss(
        _ x: Tensor, _ target: Tensor, beta: Double = 1, reduction: Reduction = .mean
    )
        -> Tensor
    {
        Tensor(checking: ct_smooth_l1_loss(x.handle, target.handle, reduction.rawValue, beta))
            .traced(.unsupported("smooth_l1_loss"), [x, target])
    }
    /// Cross entropy of logits [N, C, ...] against int64 class indices [N, ...].
    public static func crossEntropy(
        _ logits: Tensor, _ target: Tensor, weight: Tensor? = nil,
        reduction: Reduction = .mean, ignoreIndex: Int = -100
    ) -> Tensor {
        Tensor(
            checking: ct_cross_entropy(
                logits.handle, target.handle, weight?.handle, reduction.rawValue,
                Int64(ignoreIndex))
        ).traced(.unsupported("cross_entropy"), [logits, target, weight])
    }
}
