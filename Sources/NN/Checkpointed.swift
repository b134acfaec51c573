import Torch

extension Module {
    /// `body(inputs)`, with activation checkpointing when `enabled` and gradients are recorded:
    /// the segment's intermediate tensors are recomputed in the backward pass instead of kept
    /// (`ActivationCheckpoint`), and its gradients reach `inputs` and this module's trainable
    /// parameters. `body` may read other tensors only where they need no gradient (masks,
    /// indices).
    public func checkpointed(
        _ enabled: Bool, _ inputs: [Tensor], generator: Generator?, _ body: @escaping ([Tensor]) -> Tensor
    ) -> Tensor {
        guard enabled && isGradEnabled else { return body(inputs) }
        let trained = parameters().filter(\.requiresGrad)
        // Nothing to differentiate: no graph is recorded, so there is nothing to save either.
        guard !trained.isEmpty || inputs.contains(where: \.requiresGrad) else { return body(inputs) }
        return ActivationCheckpoint.run(inputs, parameters: trained, generator: generator, outputs: 1) {
            [body($0)]
        }[0]
    }
}
