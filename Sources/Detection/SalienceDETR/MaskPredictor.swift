import NN
import Torch

/// Salience DETR's foreground (salience) predictor `MaskPredictor(in, h)`:
/// LayerNorm → Linear(in, h) → GELU; the first h/2 channels stay per token ("local"), the other
/// h/2 are averaged over all tokens of the level, padding included ("global"); then
/// Linear(h, h/2) → GELU → Linear(h/2, h/4) → GELU → Linear(h/4, 1).
/// Keys: `layer1.0` (LayerNorm), `layer1.1`, `layer2.0`, `layer2.2`, `layer2.4`.
struct MaskPredictor: Module {
    let path: ModulePath
    let norm: LayerNorm
    let linear1: Linear
    let linear2: Linear, linear3: Linear, linear4: Linear
    let hidden: Int

    /// Linear layers Xavier-uniform with zero biases, as the official module.
    init(_ p: ModulePath, inDim: Int, hiddenDim h: Int) {
        path = p
        hidden = h
        norm = LayerNorm(p / "layer1" / 0, inDim)
        linear1 = Linear(p / "layer1" / 1, inFeatures: inDim, outFeatures: h)
        linear2 = Linear(p / "layer2" / 0, inFeatures: h, outFeatures: h / 2)
        linear3 = Linear(p / "layer2" / 2, inFeatures: h / 2, outFeatures: h / 4)
        linear4 = Linear(p / "layer2" / 4, inFeatures: h / 4, outFeatures: 1)
        let store = p.store
        withNoGrad {
            for l in [linear1, linear2, linear3, linear4] {
                l.weight.copy_(
                    ParameterInit.xavierUniform().make(
                        shape: l.weight.shape, dtype: store.dtype,
                        generator: store.generator))
                l.bias!.zero_()
            }
        }
    }

    /// - Parameter x: [B, n, in] tokens of one level
    /// - Returns: [B, n, 1] salience logits
    func callAsFunction(_ x: Tensor) -> Tensor {
        let z = linear1(norm(x)).gelu()
        let parts = z.split(hidden / 2, dim: -1)
        let global = parts[1].mean(dim: 1, keepDim: true).expand([-1, z.size(1), -1])
        let y = linear3(linear2(Tensor.cat([parts[0], global], dim: -1)).gelu()).gelu()
        return linear4(y)
    }
}
