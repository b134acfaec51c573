import Foundation
import Torch

/// Tensors computed from a module's weights (folded batch norms, merged branches), kept until
/// any source tensor changes. libtorch's version counters see every in-place change (checkpoint
/// loads, optimizer steps), so a stale value is never returned. Shared by copies of the module
/// that holds it; safe to use from several threads. While an `OperationTrace` records, the cache is
/// bypassed.
public final class DerivedTensorCache: @unchecked Sendable {
    private let lock = NSLock()
    private var key: [Int64] = []
    private var value: [Tensor]?

    public init() {}

    /// The cached tensors when `sources` are unchanged since they were made, else `make()`'s
    /// (run without autograd) stored for next time.
    public func value(derivedFrom sources: [Tensor], make: () -> [Tensor]) -> [Tensor] {
        // A recording sees the derivation (the graph then holds the weights, not their products).
        if OperationTrace.isRecording { return withNoGrad(make) }
        let versions = sources.map(\.version)
        lock.lock()
        defer { lock.unlock() }
        if let value, versions == key { return value }
        let made = withNoGrad(make)
        value = made
        key = versions
        return made
    }
}
