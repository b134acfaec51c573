import Torch

/// Where this process stands in a data-parallel run: its rank among `size` processes, its rank
/// on this machine, and the rendezvous address. `detr train --nproc N` and torchrun set the same
/// environment variables (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR`, `MASTER_PORT`).
public struct World: Sendable, Equatable {
    public var rank: Int
    public var size: Int
    /// Rank among the processes of this machine (the CUDA device of an NCCL run).
    public var localRank: Int
    public var masterAddress: String
    public var masterPort: Int
    /// A launcher runs the rendezvous store (`TORCHELASTIC_USE_AGENT_STORE=True`, as torchrun's
    /// agent and `detr train --nproc` do); otherwise rank 0 starts it at the master address.
    public var storeHostedByLauncher: Bool
    /// How often torchrun's agent on this machine has restarted its workers after a failure
    /// (`TORCHELASTIC_RESTART_COUNT`). Each agent counts only its own workers' failures (an agent
    /// whose workers were restarted because another machine's failed keeps its count), so
    /// the ranks of one group may differ: a group is a restart when any of its ranks counts one.
    public var restartCount: Int

    public init(
        rank: Int, size: Int, localRank: Int, masterAddress: String, masterPort: Int,
        storeHostedByLauncher: Bool = false, restartCount: Int = 0
    ) {
        self.restartCount = restartCount
        self.rank = rank
        self.size = size
        self.localRank = localRank
        self.masterAddress = masterAddress
        self.masterPort = masterPort
        self.storeHostedByLauncher = storeHostedByLauncher
    }

    public var isMain: Bool { rank == 0 }

    /// Whether the rendezvous address is this machine's loopback (all processes on one machine).
    public var isLoopback: Bool {
        ["127.0.0.1", "localhost", "::1"].contains(masterAddress) || masterAddress.hasPrefix("127.")
    }

    /// The world the environment describes: torchrun's variables, else an `srun` step's
    /// (`fromSLURM`), else nil (one process).
    /// - Throws: `ProcessGroupError` naming the variable that is missing or invalid
    public static func fromEnvironment(_ env: [String: String]) throws -> World? {
        guard let sizeText = env["WORLD_SIZE"] else { return try fromSLURM(env) }
        func integer(_ name: String, _ text: String?, _ range: ClosedRange<Int>) throws -> Int {
            guard let text else {
                throw ProcessGroupError(message: "\(name) is not set (WORLD_SIZE is \(sizeText))")
            }
            guard let v = Int(text), range.contains(v) else {
                throw ProcessGroupError(
                    message: "\(name)=\(text) is not an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return v
        }
        let size = try integer("WORLD_SIZE", sizeText, 1...65_536)
        let rank = try integer("RANK", env["RANK"], 0...(size - 1))
        let localRank = try env["LOCAL_RANK"].map { try integer("LOCAL_RANK", $0, 0...(size - 1)) } ?? rank
        let address = env["MASTER_ADDR"] ?? "127.0.0.1"
        let port = try integer("MASTER_PORT", env["MASTER_PORT"] ?? (size == 1 ? "29500" : nil), 1...65_535)
        return World(
            rank: rank, size: size, localRank: localRank, masterAddress: address, masterPort: port,
            storeHostedByLauncher: env["TORCHELASTIC_USE_AGENT_STORE"] == "True",
            restartCount: env["TORCHELASTIC_RESTART_COUNT"].flatMap(Int.init).map { max(0, $0) } ?? 0)
    }
}
