import CTorch

/// A seeded CPU random-number generator (libtorch's Philox/MT generator).
/// Pass one to random creation functions and dropout for reproducible runs.
public final class Generator: @unchecked Sendable {
    let handle: ct_generator

    public init(seed: UInt64) {
        guard let h = ct_generator_new(seed) else { fatalError("libtorch: \(Torch.lastErrorMessage())") }
        handle = h
    }

    deinit { ct_generator_free(handle) }

    public func manualSeed(_ seed: UInt64) { ct_generator_set_seed(handle, seed) }

    /// The full generator state (uint8 tensor), for checkpoints.
    public var state: Tensor {
        Tensor(checking: ct_generator_get_state(handle))
    }

    /// Restores a state captured with `state`.
    public func setState(_ state: Tensor) throws {
        if ct_generator_set_state(handle, state.handle) != 0 {
            throw TorchError.invalidArgument("generator state rejected: \(Torch.lastErrorMessage())")
        }
    }
}
