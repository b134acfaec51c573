import CTorch

/// A failed or timed-out collective, or a rendezvous that did not complete. The message names
/// this process's rank and, when they can be told, the ranks that stopped (and the failure they
/// reported).
public struct ProcessGroupError: SubjectError, Equatable {
    public var message: String
    public var subject: String? { nil }
    public var problem: String { message }

    public init(message: String) { self.message = message }
}

/// This process's membership in a group of processes that compute together: PyTorch's c10d, a
/// TCPStore rendezvous and a Gloo (CPU tensors) or NCCL (CUDA tensors, builds with NCCL only)
/// backend.
///
/// Every collective must be called by every rank in the same order. Each blocks until all ranks
/// have joined it and fails after `timeout`, or as soon as a peer's connection closes; the group
/// refuses further collectives after a failure, so a rank never waits twice on a stopped peer.
public final class ProcessGroup: @unchecked Sendable {
    public enum Backend: String, Sendable, CaseIterable {
        case gloo, nccl
    }

    public enum ReduceOp: Sendable {
        case sum, max, min

        var code: Int32 {
            switch self {
            case .sum: Int32(CT_REDUCE_SUM)
            case .max: Int32(CT_REDUCE_MAX)
            case .min: Int32(CT_REDUCE_MIN)
            }
        }
    }

    let handle: ct_dist
    public let rank: Int
    public let worldSize: Int
    public let backend: Backend

    /// Joins the group (blocks until all `worldSize` ranks have, at most `timeout` seconds).
    /// - Parameters:
    ///   - host, port: the rendezvous store's address
    ///   - hostsStore: rank 0 starts the store at `port` (torchrun's default); false when a
    ///     launcher already runs it (`RendezvousServer`, torchrun's agent). Such a store may still
    ///     hold the keys of an earlier group (workers the launcher restarted), so the ranks first
    ///     agree on a generation no earlier group there used, and the group's keys carry it.
    ///   - interface: Gloo binds to this network interface (e.g. "eth0") when set
    ///   - bindHost: otherwise to this host's address when set (e.g. "127.0.0.1" on one machine),
    ///     otherwise to the address this machine's hostname resolves to
    ///   - deviceIndex: the CUDA device of an NCCL group
    /// - Throws: `ProcessGroupError` when the rendezvous fails or times out
    public init(
        backend: Backend = .gloo, host: String, port: Int, rank: Int, worldSize: Int, hostsStore: Bool = true,
        interface: String? = nil, bindHost: String? = nil, deviceIndex: Int = 0, timeout: Double
    ) throws {
        let code = backend == .gloo ? Int32(CT_DIST_GLOO) : Int32(CT_DIST_NCCL)
        guard
            let h = ct_dist_new(
                code, host, Int32(port), Int32(rank), Int32(worldSize), hostsStore, interface ?? "", bindHost ?? "",
                Int32(deviceIndex), Int64((timeout * 1000).rounded()))
        else {
            throw ProcessGroupError(message: Torch.lastErrorMessage())
        }
        handle = h
        self.rank = rank
        self.worldSize = worldSize
        self.backend = backend
    }

    deinit { ct_dist_free(handle) }

    /// Whether a collective of this group has failed (every later one is refused).
    public var hasFailed: Bool { ct_dist_failed(handle) }

    private func check(_ status: Int32) throws {
        if status != 0 { throw ProcessGroupError(message: Torch.lastErrorMessage()) }
    }

    /// Reduces `tensor` (contiguous, on the group's device) in place over all ranks.
    public func allReduce(_ tensor: Tensor, _ op: ReduceOp = .sum) throws {
        try check(ct_dist_all_reduce(handle, tensor.handle, op.code))
    }

    /// Overwrites `tensor` (contiguous) on every rank with rank `root`'s.
    public func broadcast(_ tensor: Tensor, root: Int = 0) throws {
        try check(ct_dist_broadcast(handle, tensor.handle, Int32(root)))
    }

    /// Returns once every rank has called it.
    public func barrier() throws {
        try check(ct_dist_barrier(handle))
    }

    /// Every rank's bytes, in rank order.
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var out: UnsafeMutablePointer<UInt8>?
        var sizes = [Int64](repeating: 0, count: worldSize)
        try check(ct_dist_all_gather_bytes(handle, bytes, Int64(bytes.count), &out, &sizes))
        defer { ct_dist_free_bytes(out) }
        var parts: [[UInt8]] = []
        var offset = 0
        for size in sizes.map(Int.init) {
            parts.append(size == 0 ? [] : Array(UnsafeBufferPointer(start: out! + offset, count: size)))
            offset += size
        }
        return parts
    }

    /// Σ over ranks of `tensor`, differentiable: the backward pass sums the gradients of every
    /// rank's output (an all-reduce in the backward pass). Every rank must build the same graph of
    /// these sums, so their backward all-reduces meet.
    public func differentiableSum(_ tensor: Tensor) throws -> Tensor {
        guard let h = ct_dist_all_reduce_differentiable(handle, tensor.handle) else {
            throw ProcessGroupError(message: Torch.lastErrorMessage())
        }
        return Tensor(owning: h)
    }

    /// Posts this rank's failure to the store, so the other ranks' errors can quote it.
    public func reportFailure(_ message: String) {
        ct_dist_report_failure(handle, message)
    }
}

/// A rendezvous store with no rank in it: a launcher runs it for the workers it starts, so the
/// store outlives any one of them and a failing rank can tell which others stopped.
public final class RendezvousServer: @unchecked Sendable {
    let handle: ct_store_server
    /// The port it listens on (all interfaces).
    public let port: Int

    /// - Parameter port: 0 picks a free port
    public init(port: Int = 0, timeout: Double) throws {
        guard let h = ct_store_server_new(Int32(port), Int64((timeout * 1000).rounded())) else {
            throw ProcessGroupError(message: Torch.lastErrorMessage())
        }
        handle = h
        self.port = Int(ct_store_server_port(h))
    }

    deinit { ct_store_server_free(handle) }
}

extension Torch {
    /// Ends this process (SIGTERM) when its parent, process `parentPID`, exits: the workers a
    /// launcher started never outlive it. Linux only.
    /// - Returns: false where the system does not support it
    @discardableResult public static func exitWithParent(_ parentPID: Int32) -> Bool {
        ct_exit_with_parent(parentPID) == 0
    }
}
