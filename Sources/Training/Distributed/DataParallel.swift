import Detection
import Foundation
import NN
import Torch

/// Data-parallel training over a process group, as PyTorch's DistributedDataParallel trains the
/// official recipes: every process holds the whole model, trains on its share of each global
/// batch, and the gradients are averaged over the processes (one all-reduce of all of them,
/// flattened) before the identical optimizer steps. The single-process trainer is the case
/// without one.
public final class DataParallel: @unchecked Sendable {
    public let group: ProcessGroup
    public let world: World

    /// Joins the group `world` describes (blocks until every rank has, at most `timeout` seconds).
    /// - Parameters:
    ///   - interface: the network interface Gloo binds to (torchrun's `GLOO_SOCKET_IFNAME`); by
    ///     default loopback when the master address is, otherwise this machine's hostname address
    ///   - timeout: seconds a rendezvous or a collective may wait for the other processes
    public init(
        world: World, backend: ProcessGroup.Backend = .gloo, interface: String? = nil, timeout: Double
    ) throws {
        self.world = world
        group = try ProcessGroup(
            backend: backend, host: world.masterAddress, port: world.masterPort, rank: world.rank,
            worldSize: world.size, hostsStore: !world.storeHostedByLauncher, interface: interface,
            bindHost: world.isLoopback ? "127.0.0.1" : nil, deviceIndex: world.localRank, timeout: timeout)
    }

    public var rank: Int { world.rank }
    public var size: Int { world.size }
    public var isMain: Bool { world.isMain }

    /// Sets every parameter and buffer of `module` to rank 0's (as DDP does at construction), so
    /// all processes start from the same state whatever each one initialised or loaded.
    public func broadcastState(of module: any Module) throws {
        for (_, tensor) in module.stateDict().sorted(by: { $0.key < $1.key }) {
            if tensor.isContiguous {
                try group.broadcast(tensor)
            } else {
                let copy = tensor.contiguous()
                try group.broadcast(copy)
                withNoGrad { _ = tensor.copy_(copy) }
            }
        }
    }

    /// Replaces the gradient of every parameter by its average over the processes. Parameters
    /// without a gradient on any process keep none (the optimizer skips them, as it would in one
    /// process); one that has a gradient somewhere gets the average with zeros elsewhere.
    /// - Parameter parameters: the same list, in the same order, on every process
    public func averageGradients(_ parameters: [Tensor]) throws {
        guard let first = parameters.first else { return }
        let grads = parameters.map(\.grad)
        var parts: [Tensor] = []
        parts.reserveCapacity(parameters.count + 1)
        for (p, g) in zip(parameters, grads) {
            parts.append(g.map { $0.reshape(-1).to(.float32) } ?? Tensor.zeros([p.count], device: p.device))
        }
        // One more number per parameter: whether it has a gradient here.
        parts.append(Tensor(grads.map { $0 == nil ? Float(0) : 1 }).to(first.device))
        let flat = Tensor.cat(parts)
        try group.allReduce(flat)
        let averaged = flat / Double(size)
        let presence = flat.slice(dim: 0, start: flat.count - parameters.count).toArray(Float.self)
        var offset = 0
        for (i, p) in parameters.enumerated() {
            let n = p.count
            if presence[i] > 0 {
                p.grad = averaged.slice(dim: 0, start: offset, end: offset + n).view(p.shape).to(p.dtype)
            }
            offset += n
        }
    }

    /// Σ over the processes, element by element.
    public func sum(_ values: [Double]) throws -> [Double] { try reduce(values, .sum) }

    /// Maximum over the processes, element by element.
    public func max(_ values: [Double]) throws -> [Double] { try reduce(values, .max) }

    private func reduce(_ values: [Double], _ op: ProcessGroup.ReduceOp) throws -> [Double] {
        guard !values.isEmpty else { return [] }
        let t = Tensor(values).to(group.backend == .nccl ? .cuda(world.localRank) : .cpu)
        try group.allReduce(t, op)
        return t.toArray(Double.self)
    }

    /// Every process's bytes, in rank order.
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { try group.allGather(bytes) }

    /// Tells the other processes why this one stops (their errors quote it).
    public func reportFailure(_ error: any Error) { group.reportFailure("\(error)") }
}
