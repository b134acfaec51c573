import CTorch

/// Activation checkpointing: a segment of the forward pass whose intermediate tensors are not
/// kept for the backward pass but computed again there, trading one more forward pass of the
/// segment for the memory of its activations. The gradients are those of the plain forward
/// pass: the recomputation runs under the same autocast state, and with the dropout generator
/// the segment's first run started from (so its masks are drawn again as they were).
public enum ActivationCheckpoint {
    /// `segment(inputs)`, its intermediate tensors recomputed in the backward pass.
    /// - Parameters:
    ///   - inputs: the tensors the segment computes from (differentiated where they require a
    ///     gradient)
    ///   - parameters: every other tensor the segment reads that needs a gradient (its module's
    ///     parameters)
    ///   - generator: the generator the segment draws dropout or stochastic depth from, if any
    ///   - outputs: how many tensors `segment` returns
    ///   - segment: the computation; it runs twice (the second time inside the backward pass)
    ///     and must compute the same function both times
    public static func run(
        _ inputs: [Tensor], parameters: [Tensor], generator: Generator? = nil, outputs: Int,
        _ segment: @escaping ([Tensor]) -> [Tensor]
    ) -> [Tensor] {
        let box = Segment(body: segment, generator: generator, outputs: outputs)
        let context = Unmanaged.passRetained(box).toOpaque()
        var results = [ct_tensor?](repeating: nil, count: outputs)
        let status = withHandles(inputs) { ins in
            withHandles(parameters) { ps in
                ct_checkpoint(
                    { context, inputs, count, recompute, outputs, n in
                        guard let context, let outputs else { return -1 }
                        let segment = Unmanaged<Segment>.fromOpaque(context).takeUnretainedValue()
                        let given = (0..<Int(count)).map { Tensor(owning: inputs![$0]!) }
                        return segment.run(given, recompute: recompute, into: outputs, count: Int(n))
                    }, context, { Unmanaged<Segment>.fromOpaque($0!).release() }, ins, Int32(inputs.count), ps,
                    Int32(parameters.count), &results, Int32(outputs))
            }
        }
        Torch.check(status)
        return results.map { Tensor(checking: $0) }
    }

    private static func withHandles<R>(_ tensors: [Tensor], _ body: (UnsafePointer<ct_tensor?>) -> R) -> R {
        let handles: [ct_tensor?] = tensors.map(\.handle)
        return handles.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// A checkpointed segment's computation and its generator's state before its first run.
    final class Segment {
        let body: ([Tensor]) -> [Tensor]
        let generator: Generator?
        let outputs: Int
        var initialState: Tensor?

        init(body: @escaping ([Tensor]) -> [Tensor], generator: Generator?, outputs: Int) {
            self.body = body
            self.generator = generator
            self.outputs = outputs
        }

        func run(
            _ inputs: [Tensor], recompute: Bool, into outputs: UnsafeMutablePointer<ct_tensor?>, count: Int
        ) -> Int32 {
            var resumed: Tensor?
            if let generator {
                if recompute, let initialState {
                    // Draw the first run's numbers again, then continue where the generator was.
                    resumed = generator.state
                    guard (try? generator.setState(initialState)) != nil else { return -1 }
                } else {
                    initialState = generator.state
                }
            }
            let results = body(inputs)
            if let generator, let resumed {
                guard (try? generator.setState(resumed)) != nil else { return -1 }
            }
            guard results.count == count else { return -1 }
            for (i, t) in results.enumerated() { outputs[i] = ct_shallow_clone(t.handle) }
            return 0
        }
    }
}
