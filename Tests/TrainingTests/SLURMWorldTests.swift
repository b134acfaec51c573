import Testing
import Torch
import Training

/// `World.fromEnvironment` in an `srun` step: the variables as srun sets them for each task.
@Suite struct SLURMWorldTests {
    /// What srun gives task `rank` of a 4-task step on two nodes (plus what every job has).
    static func srun(rank: Int, local: Int, extra: [String: String] = [:]) -> [String: String] {
        [
            "SLURM_JOB_ID": "1234567", "SLURM_JOB_NODELIST": "gpu[07-08]", "SLURM_NODELIST": "gpu[07-08]",
            "SLURM_NTASKS": "4", "SLURM_PROCID": "\(rank)", "SLURM_LOCALID": "\(local)", "SLURM_NODEID": "\(rank / 2)",
            "SLURM_STEP_ID": "0", "SLURM_STEPID": "0", "SLURM_STEP_NUM_TASKS": "4", "SLURM_TASKS_PER_NODE": "2(x2)",
        ].merging(extra) { $1 }
    }

    @Test func srunTasksFormOneWorld() throws {
        for rank in 0..<4 {
            let w = try #require(try World.fromEnvironment(Self.srun(rank: rank, local: rank % 2)))
            #expect(w == World(rank: rank, size: 4, localRank: rank % 2, masterAddress: "gpu07", masterPort: 15_000 + 4567))
            #expect(!w.storeHostedByLauncher)
        }
        let given = try #require(
            try World.fromEnvironment(Self.srun(rank: 1, local: 1, extra: ["MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29400"])))
        #expect(given.masterAddress == "10.0.0.1" && given.masterPort == 29400)
        // torchrun's variables win (torchrun under srun).
        let torchrun = try #require(
            try World.fromEnvironment(
                Self.srun(rank: 3, local: 1, extra: ["WORLD_SIZE": "2", "RANK": "0", "MASTER_PORT": "29500"])))
        #expect(torchrun.size == 2 && torchrun.rank == 0)
    }

    @Test func outsideAStepIsOneProcess() throws {
        var batchScript = Self.srun(rank: 0, local: 0)
        batchScript["SLURM_STEP_ID"] = nil
        batchScript["SLURM_STEPID"] = nil
        #expect(try World.fromEnvironment(batchScript) == nil)
        #expect(try World.fromEnvironment(Self.srun(rank: 0, local: 0, extra: ["SLURM_NTASKS": "1"])) == nil)
        #expect(try World.fromEnvironment([:]) == nil)
    }

    @Test func badVariablesAreNamed() {
        #expect(throws: ProcessGroupError(message: "SLURM_PROCID=4 is not an integer in 0...3")) {
            try World.fromEnvironment(Self.srun(rank: 4, local: 0))
        }
        var noJob = Self.srun(rank: 0, local: 0)
        noJob["SLURM_JOB_ID"] = nil
        #expect(throws: ProcessGroupError.self) { try World.fromEnvironment(noJob) }
        #expect(throws: ProcessGroupError.self) {
            try World.fromEnvironment(Self.srun(rank: 0, local: 0, extra: ["SLURM_JOB_NODELIST": "gpu[07-08"]))
        }
    }

    @Test func nodeListsExpandAsScontrolDoes() throws {
        #expect(try SLURMNodeList.expand("gpu[07-08]") == ["gpu07", "gpu08"])
        #expect(try SLURMNodeList.expand("node[01-03,07],gpu5") == ["node01", "node02", "node03", "node07", "gpu5"])
        #expect(try SLURMNodeList.expand("a1,b2") == ["a1", "b2"])
        #expect(try SLURMNodeList.expand("x[8-10]-ib") == ["x8-ib", "x9-ib", "x10-ib"])
        #expect(try SLURMNodeList.expand("rack[1-2]-n[1,3]") == ["rack1-n1", "rack1-n3", "rack2-n1", "rack2-n3"])
        #expect(try SLURMNodeList.expand("n[098-101]") == ["n098", "n099", "n100", "n101"])
        for bad in ["n[1-2", "n]1[", "n[a-b]", "n[3-1]", "n[]"] {
            #expect(throws: ProcessGroupError.self, "\(bad)") { try SLURMNodeList.expand(bad) }
        }
    }
}
