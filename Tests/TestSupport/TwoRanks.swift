import Dispatch
import Foundation
import Torch

extension TestSupport {
    final class RankErrors: @unchecked Sendable {
        private let lock = NSLock()
        private var errors: [Int: any Error] = [:]
        func record(_ rank: Int, _ error: any Error) { lock.withLock { errors[rank] = error } }
        var all: [Int: any Error] { lock.withLock { errors } }
    }

    /// Runs `body(rank, group)` for ranks 0 and 1 of a Gloo process group on threads of this
    /// process (a rendezvous store and both ranks on 127.0.0.1); returns the errors they threw.
    /// - Parameters:
    ///   - server: the launcher's store the group meets at (default: a new one)
    ///   - beforeJoining: runs on each rank's thread before it joins the group
    @discardableResult
    public static func twoRanks(
        timeout: Double = 300, at server: RendezvousServer? = nil,
        beforeJoining: @escaping @Sendable (Int) -> Void = { _ in },
        _ body: @escaping @Sendable (Int, ProcessGroup) throws -> Void
    ) throws -> [Int: any Error] {
        let server = try server ?? RendezvousServer(timeout: timeout)
        let port = server.port
        let outcomes = RankErrors()
        let done = DispatchGroup()
        for rank in 0..<2 {
            DispatchQueue.global().async(group: done) {
                do {
                    beforeJoining(rank)
                    let group = try ProcessGroup(
                        host: "127.0.0.1", port: port, rank: rank, worldSize: 2, hostsStore: false,
                        bindHost: "127.0.0.1", timeout: timeout)
                    try body(rank, group)
                } catch {
                    outcomes.record(rank, error)
                }
            }
        }
        done.wait()
        return withExtendedLifetime(server) { outcomes.all }
    }
}
