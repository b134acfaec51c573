import Foundation
import NN
import Torch

/// Salience DETR encoder layer (post-norm), run on the foreground tokens of one encoder step:
/// 1. the `topkSA` tokens with the highest (max class logit × salience logit) attend to each
///    other (`pre_attention`, q = k = x + pos, v = x) → residual → `pre_norm`, written back;
/// 2. deformable attention of all tokens (x + pos) into the never-updated multi-level value
///    (`self_attn`) → residual → `norm1`; 3. FFN → residual → `norm2`.
/// Keys: `pre_attention`, `pre_norm`, `self_attn`, `norm1`, `linear1`, `linear2`, `norm2`.
struct SalienceEncoderLayer: Module {
    let path: ModulePath
    let preAttention: MultiheadAttention
    let preNorm: LayerNorm
    let selfAttn: MultiScaleDeformableAttention
    let norm1: LayerNorm
    let linear1: Linear, linear2: Linear
    let norm2: LayerNorm
    let topkSA: Int
    let dropout: Double

    init(_ p: ModulePath, config c: SalienceDETRConfig) {
        path = p
        let d = c.hiddenDim
        preAttention = MultiheadAttention(p / "pre_attention", embedDim: d, numHeads: c.numHeads, dropout: c.dropout)
        preNorm = LayerNorm(p / "pre_norm", d)
        selfAttn = MultiScaleDeformableAttention(
            p / "self_attn", embedDim: d, numLevels: c.numFeatureLevels,
            numHeads: c.numHeads, numPoints: c.numPoints)
        norm1 = LayerNorm(p / "norm1", d)
        linear1 = Linear(p / "linear1", inFeatures: d, outFeatures: c.dimFeedforward)
        linear2 = Linear(p / "linear2", inFeatures: c.dimFeedforward, outFeatures: d)
        norm2 = LayerNorm(p / "norm2", d)
        topkSA = c.topkSA
        dropout = c.dropout
        SalienceInit.xavier([preAttention.outProj, linear1, linear2], store: p.store)
    }

    /// - Parameters:
    ///   - query, pos: [B, n, C] the layer's tokens and their position embeddings
    ///   - value: [B, N, C] multi-level features (all tokens); keyPaddingMask [B, N]
    ///   - referencePoints: [B, n, L, 2]
    ///   - scoreTarget: [B, n, numClasses] class logits of `query`
    ///   - foreground: [B, n] salience logits of the tokens
    ///   - tokens: nil when every token is the layer's; else [1 or B, n] bool, the layer's own
    ///     tokens: the others rank behind them for the top-k self-attention and are no keys
    ///     there, and what the layer computes for them is not used (`SalienceSelection.bounded`)
    /// - Returns: [B, n, C]
    ///
    /// The official layer requires n ≥ topkSA; here min(topkSA, n) tokens attend (small images).
    func callAsFunction(
        _ query: Tensor, pos: Tensor, value: Tensor, referencePoints: Tensor, layout: MultiLevelLayout,
        keyPaddingMask: Tensor?, scoreTarget: Tensor, foreground: Tensor, tokens: Tensor? = nil,
        training: Bool, generator: Generator?
    ) -> Tensor {
        func drop(_ x: Tensor) -> Tensor { Functional.dropout(x, p: dropout, training: training, generator: generator) }
        let (b, n, c) = (query.size(0), query.size(1), query.size(2))
        let k = Swift.min(topkSA, n)
        var x = query
        if k > 0 {
            var mc = scoreTarget.amax(dims: [-1]) * foreground  // [B, n]
            var own: Tensor? = nil
            if let tokens {
                own = tokens.expand([b, n])
                mc = mc.maskedFill(tokens.logicalNot(), -Float.infinity)
            }
            let top = mc.topk(k, dim: 1).indices  // [B, k]
            let index = top.unsqueeze(-1).expand([-1, -1, c])
            var t = x.selectRows(top)  // [B, k, C]
            let qk = (t + pos.selectRows(top)).transpose(0, 1)  // [k, B, C]
            let sa = preAttention.attend(
                query: qk, key: qk, value: t.transpose(0, 1),
                keyPaddingMask: own.map { $0.gather(dim: 1, index: top).logicalNot() }, training: training,
                generator: generator)
            t = preNorm(t + drop(sa.transpose(0, 1)))
            x = x.scatter(dim: 1, index: index, src: t)
        }
        let src = selfAttn(
            query: x + pos, referencePoints: referencePoints, value: value, spatialShapes: layout.hw,
            keyPaddingMask: keyPaddingMask)
        x = norm1(x + drop(src))
        return norm2(x + drop(linear2(drop(linear1(x, relu: true)))))
    }
}

/// Official initialisations shared by the Salience modules.
enum SalienceInit {
    /// Xavier-uniform weights (biases untouched).
    static func xavier(_ layers: [Linear], store: ParameterStore) {
        withNoGrad {
            for l in layers {
                l.weight.copy_(
                    ParameterInit.xavierUniform().make(
                        shape: l.weight.shape, dtype: store.dtype,
                        generator: store.generator))
            }
        }
    }

    /// DETR's MLP init: Xavier-uniform weights, zero biases.
    static func mlp(_ mlp: MLP, store: ParameterStore) {
        xavier(Array(mlp.layers), store: store)
        withNoGrad { for l in mlp.layers { l.bias?.zero_() } }
    }

    /// A box head predicting zero deltas at first: last layer weight and bias 0.
    static func zeroLast(_ mlp: MLP) {
        withNoGrad {
            let last = mlp.layers[mlp.layers.count - 1]
            last.weight.zero_()
            last.bias?.zero_()
        }
    }

    /// Class bias for a 1 % prior probability: −log(99).
    static func focalPrior(_ head: Linear) {
        withNoGrad { _ = head.bias?.fill_(-Foundation.log(99.0)) }
    }
}
