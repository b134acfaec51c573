import Foundation
import TestSupport
import Testing
import Torch

/// libtorch's c10d through the shim: two ranks on threads of this process, a TCPStore on
/// 127.0.0.1 and Gloo. Collectives, the differentiable sum's backward pass, and a peer that
/// leaves in the middle of a collective (an error naming it, not a hang).
@Suite(.serialized) struct ProcessGroupTests {
    static func twoRanks(
        timeout: Double = 300, _ body: @escaping @Sendable (Int, ProcessGroup) throws -> Void
    ) throws -> [Int: any Error] {
        try TestSupport.twoRanks(timeout: timeout, body)
    }

    @Test func collectives() throws {
        let errors = try Self.twoRanks { rank, group in
            #expect(group.rank == rank && group.worldSize == 2)
            let r = Double(rank + 1)
            let sum = Tensor([r, 10 * r])
            try group.allReduce(sum)
            #expect(sum.toArray(Double.self) == [3, 30])
            let largest = Tensor([Float(r), -Float(r)])
            try group.allReduce(largest, .max)
            #expect(largest.toArray(Float.self) == [2, -1])
            let shared = Tensor([Int64(rank), 7])
            try group.broadcast(shared, root: 1)
            #expect(shared.toArray(Int64.self) == [1, 7])
            let gathered = try group.allGather(rank == 0 ? [1, 2, 3] : [])
            #expect(gathered == [[1, 2, 3], []])
            try group.barrier()
        }
        #expect(errors.isEmpty, "\(errors)")
    }

    /// y = Σ_ranks x_r on every rank; rank r's objective is (r + 1)·Σ y, so the objectives' sum
    /// has gradient 1 + 2 = 3 with respect to every element of every rank's x.
    @Test func differentiableSumSumsGradientsAcrossRanks() throws {
        let errors = try Self.twoRanks { rank, group in
            let x = Tensor([Float(rank), 1, 2]).requiringGrad()
            let y = try group.differentiableSum(x * 1)
            #expect(y.toArray(Float.self) == [1, 2, 4])
            (y.sum() * Double(rank + 1)).backward()
            #expect(x.grad?.toArray(Float.self) == [3, 3, 3])
        }
        #expect(errors.isEmpty, "\(errors)")
    }

    /// Rank 1 leaves while rank 0 waits in an all-reduce: rank 0 fails at once (its peer's
    /// connection closed) with a message naming rank 1, and refuses later collectives.
    @Test func aPeerThatLeavesIsNamed() throws {
        let started = Date()
        let errors = try Self.twoRanks(timeout: 60) { rank, group in
            try group.barrier()
            if rank == 1 {
                usleep(300_000)
                return  // leaves the group (its ProcessGroup is released)
            }
            do {
                try group.allReduce(Tensor([Float(1)]))
                Issue.record("the all-reduce with a departed peer succeeded")
            } catch let e as ProcessGroupError {
                #expect(e.message.contains("all-reduce failed on rank 0 of 2"), "\(e)")
                #expect(e.message.contains("rank 1 stopped responding"), "\(e)")
            }
            #expect(group.hasFailed)
            #expect(throws: ProcessGroupError.self) { try group.barrier() }
        }
        #expect(errors.isEmpty, "\(errors)")
        #expect(Date().timeIntervalSince(started) < 30)
    }

    /// A launcher's store outlives its workers (torchrun's agent keeps one across restarts), so a
    /// restarted group meets where the dead one's keys still are. Three groups in turn at one
    /// store, each rank joining late in one of them (so the other reads the store first, where
    /// an earlier group's addresses are): every group forms and reduces correctly, in seconds.
    @Test func groupsInTurnAtOneLauncherStore() throws {
        let server = try RendezvousServer(timeout: 60)
        let started = Date()
        for late in [nil, 0, 1] {
            let errors = try TestSupport.twoRanks(
                timeout: 60, at: server,
                beforeJoining: { rank in if rank == late { usleep(700_000) } }
            ) { rank, group in
                let x = Tensor([Float(rank + 1)])
                try group.allReduce(x)
                #expect(x.toArray(Float.self) == [3])
            }
            #expect(errors.isEmpty, "late rank \(late.map(String.init) ?? "none"): \(errors)")
        }
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test func aRendezvousWithoutPeersTimesOut() throws {
        let server = try RendezvousServer(timeout: 5)
        let started = Date()
        #expect(throws: ProcessGroupError.self) {
            _ = try ProcessGroup(
                host: "127.0.0.1", port: server.port, rank: 0, worldSize: 2, hostsStore: false,
                bindHost: "127.0.0.1", timeout: 2)
        }
        #expect(Date().timeIntervalSince(started) < 20)
    }
}
