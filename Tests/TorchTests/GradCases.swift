import Testing
import Torch

/// Named inputs of a gradient case (`grad.<case>.in.<name>` in ops.safetensors).
struct GradInputs {
    var tensors: [String: Tensor]
    subscript(_ name: String) -> Tensor {
        guard let t = tensors[name] else { fatalError("gradient case has no input '\(name)'") }
        return t
    }
}

/// An autograd-facing op: PyTorch stored its output and the gradients of `(out * w).sum()`
/// with respect to `wrt` (generate.py, `gradients()`). The same closures drive the float64
/// finite-difference checks.
struct GradCase: Sendable, CustomTestStringConvertible {
    let name: String
    let wrt: [String]
    let fn: @Sendable (GradInputs) -> Tensor
    /// Looser float32 tolerance for ops with long accumulations.
    var atol: Double = 1e-5

    init(_ name: String, _ wrt: [String], atol: Double = 1e-5, _ fn: @escaping @Sendable (GradInputs) -> Tensor) {
        self.name = name
        self.wrt = wrt
        self.atol = atol
        self.fn = fn
    }

    var testDescription: String { name }
}

extension GradCase {
    static let all: [GradCase] = [
        GradCase("linear", ["x", "w", "b"]) { Tensor.linear($0["x"], weight: $0["w"], bias: $0["b"]) },
        GradCase("matmul", ["a", "b"]) { $0["a"].matmul($0["b"]) },
        GradCase("bmm", ["a", "b"]) { $0["a"].bmm($0["b"]) },
        GradCase("baddbmm", ["c", "a", "b"]) { $0["c"].baddbmm($0["a"], $0["b"], beta: 0.5, alpha: 2) },
        GradCase("conv2d", ["x", "w", "b"]) {
            Functional.conv2d($0["x"], weight: $0["w"], bias: $0["b"], stride: (2, 2), padding: (1, 1), groups: 2)
        },
        GradCase("conv2d_dil", ["x", "w"]) {
            Functional.conv2d($0["x"], weight: $0["w"], padding: (2, 2), dilation: (2, 2))
        },
        GradCase("grid_sample", ["x", "g"]) { Functional.gridSample($0["x"], grid: $0["g"]) },
        GradCase("layer_norm", ["x", "w", "b"]) {
            Functional.layerNorm($0["x"], normalizedShape: [6], weight: $0["w"], bias: $0["b"])
        },
        GradCase("group_norm", ["x", "w", "b"]) {
            Functional.groupNorm($0["x"], groups: 2, weight: $0["w"], bias: $0["b"])
        },
        GradCase("batch_norm_train", ["x", "w", "b"]) {
            Functional.batchNorm(
                $0["x"], weight: $0["w"], bias: $0["b"], runningMean: nil, runningVar: nil,
                training: true)
        },
        GradCase("batch_norm_eval", ["x", "w", "b"]) {
            Functional.batchNorm(
                $0["x"], weight: $0["w"], bias: $0["b"], runningMean: $0["rm"], runningVar: $0["rv"],
                training: false)
        },
        GradCase("softmax", ["x"]) { $0["x"].softmax(dim: -1) },
        GradCase("log_softmax", ["x"]) { $0["x"].logSoftmax(dim: 1) },
        GradCase("sigmoid", ["x"]) { $0["x"].sigmoid() },
        GradCase("gelu", ["x"]) { $0["x"].gelu() },
        GradCase("gelu_tanh", ["x"]) { $0["x"].gelu(approximate: true) },
        GradCase("silu", ["x"]) { $0["x"].silu() },
        GradCase("relu", ["x"]) { $0["x"].relu() },
        GradCase("tanh", ["x"]) { $0["x"].tanh() },
        GradCase("interp_bilinear", ["x"]) { Functional.interpolate($0["x"], size: (5, 7), mode: .bilinear) },
        GradCase("interp_bilinear_ac", ["x"]) {
            Functional.interpolate($0["x"], size: (5, 7), mode: .bilinear, alignCorners: true)
        },
        GradCase("interp_bilinear_aa", ["x"]) {
            Functional.interpolate($0["x"], size: (3, 4), mode: .bilinearAntialias)
        },
        GradCase("interp_nearest", ["x"]) { Functional.interpolate($0["x"], size: (5, 7), mode: .nearest) },
        GradCase("bce_logits", ["x"]) { Functional.binaryCrossEntropyWithLogits($0["x"], $0["t"]) },
        GradCase("bce_logits_weight", ["x"]) {
            Functional.binaryCrossEntropyWithLogits($0["x"], $0["t"], weight: $0["w"], reduction: .sum)
        },
        GradCase("l1", ["x"]) { Functional.l1Loss($0["x"], $0["t"]) },
        GradCase("smooth_l1", ["x"]) { Functional.smoothL1Loss($0["x"], $0["t"], beta: 0.5) },
        GradCase("cross_entropy", ["x"]) { Functional.crossEntropy($0["x"], $0["c"]) },
        GradCase("cdist_p1", ["a", "b"]) { $0["a"].cdist($0["b"], p: 1) },
        GradCase("cdist_p2", ["a", "b"]) { $0["a"].cdist($0["b"], p: 2) },
        GradCase("gather", ["x"]) { $0["x"].gather(dim: 1, index: $0["i"]) },
        GradCase("index_select", ["x"]) { $0["x"].indexSelect(dim: 0, index: $0["i"]) },
        GradCase("masked_fill", ["x"]) { $0["x"].maskedFill($0["m"], 0.5) },
        GradCase("where", ["a", "b"]) { Tensor.where($0["m"], $0["a"], $0["b"]) },
        GradCase("index_adv", ["x"]) { $0["x"][$0["i"]] },
        GradCase("cat", ["a", "b"]) { Tensor.cat([$0["a"], $0["b"]], dim: 1) },
        GradCase("stack", ["a", "b"]) { Tensor.stack([$0["a"], $0["b"]], dim: 1) },
        GradCase("max_pool2d", ["x"]) {
            Functional.maxPool2d($0["x"], kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        },
        GradCase("avg_pool2d", ["x"]) { Functional.avgPool2d($0["x"], kernel: (2, 2)) },
        GradCase("sqrt", ["x"]) { $0["x"].sqrt() },
        GradCase("rsqrt", ["x"]) { $0["x"].rsqrt() },
        GradCase("log", ["x"]) { $0["x"].log() },
        GradCase("exp", ["x"]) { $0["x"].exp() },
        GradCase("abs", ["x"]) { $0["x"].abs() },
        GradCase("pow", ["x"]) { $0["x"].pow(3) },
        GradCase("div", ["a", "b"]) { $0["a"] / $0["b"] },
        GradCase("clamp", ["x"]) { $0["x"].clamp(min: -0.5, max: 0.5) },
        GradCase("mean_d1", ["x"]) { $0["x"].mean(dim: 1) },
        GradCase("var_d1", ["x"]) { $0["x"].variance(dims: [1]) },
        GradCase("norm_d1", ["x"]) { $0["x"].norm(dims: [1]) },
        GradCase("logsumexp", ["x"]) { $0["x"].logsumexp(dims: [1]) },
        GradCase("topk", ["x"]) { $0["x"].topk(2, dim: 1).values },
        GradCase("sort", ["x"]) { $0["x"].sort(dim: 1).values },
        GradCase("expand_repeat", ["x"]) { $0["x"].expand([2, 3, 4]).repeat([1, 2, 1]) },
        GradCase("permute_reshape", ["x"]) { $0["x"].permute(2, 0, 1).reshape(4, 6) },
        GradCase("embedding", ["w"]) { Functional.embedding($0["i"], weight: $0["w"]) },
        GradCase("pad", ["x"]) { Functional.pad($0["x"], [1, 2, 0, 1], value: 0.5) },
    ]
}

extension GradCase {
    /// The case's stored inputs; floating ones cast to `dtype` when given.
    func inputs(as dtype: DType? = nil) throws -> GradInputs {
        let prefix = "grad.\(name).in."
        var tensors: [String: Tensor] = [:]
        for key in try Ref.names(withPrefix: prefix) {
            var t = try Ref.get(key)
            if let dtype, t.dtype.isFloatingPoint { t = t.to(dtype) }
            tensors[String(key.dropFirst(prefix.count))] = t
        }
        return GradInputs(tensors: tensors)
    }

    /// Inputs whose `wrt` entries are fresh leaves requiring grad.
    func leaves(_ inputs: GradInputs) -> GradInputs {
        var out = inputs
        for k in wrt { out.tensors[k] = inputs[k].detach().requiringGrad() }
        return out
    }
}
