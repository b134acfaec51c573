import Foundation
import TestSupport
import Testing
import Torch

/// Data-parallel training through the CLI (Gloo on 127.0.0.1): two processes with batch 1 equal
/// one process with batch 2, a `--nproc 2` run resumes exactly, and a killed worker stops the run
/// with an error naming its rank, in both launch modes.
@Suite(.serialized) struct DistributedTrainCLITests {
    static let conditional = """
        {"architecture": "conditional_detr", "num_classes": 4, "num_queries": 8, "hidden_dim": 32, "num_heads": 4,
         "num_encoder_layers": 1, "num_decoder_layers": 2, "dim_feedforward": 32, "dropout": 0.0,
         "backbone": {"block": "basic", "layers": [1, 1, 1, 1]}, "min_size": 64, "max_size": 96, "num_select": 8}
        """

    /// Salience DETR exercises the synchronised batch norms of its neck and per-rank denoising draws.
    static let salience = """
        {"architecture": "salience_detr", "num_classes": 4, "num_queries": 12, "embed_dim": 32, "num_heads": 4,
         "num_encoder_layers": 1, "layer_filter_ratio": [1.0], "num_decoder_layers": 2, "dim_feedforward": 64,
         "topk_sa": 8, "denoising": {"num": 6}, "num_select": 10, "min_size": 64, "max_size": 96,
         "backbone": {"block": "basic", "layers": [1, 1, 1, 1]}}
        """

    /// A directory with the tiny config and `detr synth` shapes (removed by the caller).
    static func workspace(images: Int, config: String = conditional) throws -> (dir: URL, config: String, data: String)
    {
        let dir = try TestSupport.temporaryDirectory("ddp-cli")
        let configURL = dir.appendingPathComponent("tiny.json")
        try Data(config.utf8).write(to: configURL)
        let data = dir.appendingPathComponent("shapes").path
        let s = try DetrProcess.run([
            "synth", "--output", data, "--images", "\(images)", "--seed", "5", "--size", "64-80",
        ])
        #expect(s.status == 0, "\(s.stderr)")
        return (dir, configURL.path, data)
    }

    static func trainArgs(
        _ w: (dir: URL, config: String, data: String), output: String, validation: Bool = false
    )
        -> [String]
    {
        var args = [
            "train", "--config", w.config, "--train-images", w.data + "/train", "--train-annotations",
            w.data + "/annotations/train.json", "--output", output, "--workers", "1", "--lr", "1e-3",
            "--lr-backbone", "1e-3", "--quiet", "--dist-timeout", "600",
        ]
        if validation {
            args += ["--val-images", w.data + "/val", "--val-annotations", w.data + "/annotations/val.json"]
        }
        return args
    }

    static func records(_ path: String) throws -> [[String: Any]] { try TestSupport.jsonLines(path) }

    /// The largest relative difference of any loss term between two logs, record by record
    /// (whose step numbers must agree).
    static func worstLossDifference(_ a: [[String: Any]], _ b: [[String: Any]]) throws -> Double {
        var worst = 0.0
        for (x, y) in zip(a, b) {
            #expect(x["step"] as? Int == y["step"] as? Int)
            for (key, value) in x where key.hasPrefix("loss") {
                let u = try #require(value as? Double), v = try #require(y[key] as? Double, "\(key)")
                worst = max(worst, abs(u - v) / max(abs(u), 1e-3))
            }
        }
        return worst
    }

    static func modelTensors(_ path: String) throws -> StateDict {
        try Safetensors.read(contentsOf: URL(fileURLWithPath: path)).tensors.stripping(prefix: "model.")
    }

    /// 2 processes × batch 1 (padded to the step's largest image) against 1 process × batch 2 on
    /// the same global batches. The two sum float32 numbers in another order, so they agree to
    /// rounding only, and AdamW amplifies rounding where a gradient is (nearly) zero: it divides
    /// by the root of the second moment, so a float32 difference in such a gradient moves a
    /// weight by up to about `lr` per step whatever the gradient's size (attention key biases,
    /// whose true gradient is 0, move by rounding alone, differently in the two runs). A bound on
    /// single weights is a bound on one CPU's rounding: max |Δw| was 2e-5 on one AMD EPYC, 1.1e-4
    /// on an Intel Xeon and on another AMD EPYC. Rounding cannot move the training as a whole, so
    /// the weights are compared through the whole update since initialisation:
    /// ‖w₁ − w₂‖ / ‖w₁ − w₀‖ over all parameters (w₀: the same seed at learning rate 0).
    /// Measured on a 2-core AMD EPYC (AVX-512): 5.8e-5 (max |Δw| 1.1e-4); with one process's
    /// gradients zeroed before the all-reduce it is 0.86 — the bound 1e-2 is 170x the first and
    /// 86x below the second. Every logged loss agrees within 1e-5 relative (measured 5e-7), and
    /// the gradient norm the optimizer received (logged before clipping) within 1e-3 (measured
    /// 8e-7): AdamW and clipping are blind to a gradient average off by a constant factor, so
    /// summing instead of averaging leaves weights and losses as they are (measured: 5.9e-5 and
    /// 5e-7) and only the logged norm shows it (it doubles).
    @Test func twoProcessesEqualOneWithTheirCombinedBatch() throws {
        let w = try Self.workspace(images: 12)
        defer { try? FileManager.default.removeItem(at: w.dir) }
        let single = w.dir.appendingPathComponent("single").path, pair = w.dir.appendingPathComponent("pair").path
        let initial = w.dir.appendingPathComponent("initial").path
        let a = try DetrProcess.run(Self.trainArgs(w, output: single) + ["--batch-size", "2", "--epochs", "2"])
        #expect(a.status == 0, "\(a.stderr)")
        let b = try DetrProcess.run(
            Self.trainArgs(w, output: pair) + [
                "--batch-size", "1", "--epochs", "2", "--nproc", "2", "--pad-global-batch",
            ])
        #expect(b.status == 0, "\(b.stderr)")
        // The same seed at learning rate 0: the initial weights (AdamW moves nothing, decay included).
        let z = try DetrProcess.run(
            Self.trainArgs(w, output: initial) + ["--batch-size", "2", "--epochs", "1", "--lr", "0", "--lr-backbone", "0"])
        #expect(z.status == 0, "\(z.stderr)")

        let ra = try Self.records(single + "/log.jsonl"), rb = try Self.records(pair + "/log.jsonl")
        #expect(ra.count == rb.count && ra.count >= 6)
        var worstLoss = 0.0, worstGradNorm = 0.0
        for (x, y) in zip(ra, rb) {
            #expect(x["step"] as? Int == y["step"] as? Int)
            for (key, value) in x where key.hasPrefix("loss") {
                let u = try #require(value as? Double), v = try #require(y[key] as? Double, "\(key)")
                worstLoss = max(worstLoss, abs(u - v) / max(abs(u), 1e-3))
            }
            let u = try #require(x["grad_norm"] as? Double), v = try #require(y["grad_norm"] as? Double)
            worstGradNorm = max(worstGradNorm, abs(u - v) / max(abs(u), 1e-12))
        }
        #expect(worstLoss < 1e-5, "largest relative loss difference \(worstLoss)")
        #expect(worstGradNorm < 1e-3, "largest relative gradient-norm difference \(worstGradNorm)")

        let ta = try Self.modelTensors(single + "/checkpoint.safetensors")
        let tb = try Self.modelTensors(pair + "/checkpoint.safetensors")
        let t0 = try Self.modelTensors(initial + "/checkpoint.safetensors")
        var differenceSquared = 0.0, updateSquared = 0.0, worstWeight = 0.0
        for (key, t) in ta where t.dtype.isFloatingPoint {
            let u = try #require(tb[key], "\(key)"), start = try #require(t0[key], "\(key)")
            let (x, y, z) = (t.to(.float64), u.to(.float64), start.to(.float64))
            updateSquared += (x - z).square().sum().item()
            differenceSquared += (x - y).square().sum().item()
            worstWeight = max(worstWeight, TestSupport.maxAbsDiff(t, u))
        }
        #expect(updateSquared > 0, "no weight moved")
        let relative = (differenceSquared / updateSquared).squareRoot()
        #expect(relative < 1e-2, "‖w₁ − w₂‖ / ‖w₁ − w₀‖ = \(relative) (max |Δw| \(worstWeight))")
        if ProcessInfo.processInfo.environment["DDP_REPORT"] != nil {
            print(
                "ddp equivalence: ‖w₁ − w₂‖ / ‖w₁ − w₀‖ = \(relative), max |Δw| \(worstWeight), "
                    + "loss \(worstLoss), grad norm \(worstGradNorm)")
        }
    }

    /// Salience DETR, `--nproc 2` for 1 epoch, then `--resume` to 3, against 3 epochs straight:
    /// the same log (every step's losses and the sharded evaluations) and the same checkpoint
    /// (every rank's generator state included), byte for byte.
    @Test func twoProcessRunResumesExactly() throws {
        let w = try Self.workspace(images: 10, config: Self.salience)
        defer { try? FileManager.default.removeItem(at: w.dir) }
        let straight = w.dir.appendingPathComponent("straight").path
        let split = w.dir.appendingPathComponent("split").path
        let common = ["--batch-size", "2", "--nproc", "2", "--lr-drop", "100"]
        let a = try DetrProcess.run(Self.trainArgs(w, output: straight, validation: true) + common + ["--epochs", "3"])
        #expect(a.status == 0, "\(a.stderr)")
        let b = try DetrProcess.run(Self.trainArgs(w, output: split, validation: true) + common + ["--epochs", "1"])
        #expect(b.status == 0, "\(b.stderr)")
        let c = try DetrProcess.run(
            Self.trainArgs(w, output: split, validation: true) + common + ["--epochs", "3", "--resume"])
        #expect(c.status == 0, "\(c.stderr)")

        func text(_ r: [[String: Any]]) throws -> [String] {
            try r.map {
                String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self)
            }
        }
        let ra = try Self.records(straight + "/log.jsonl"), rb = try Self.records(split + "/log.jsonl")
        #expect(ra.filter { $0["eval"] as? Bool == true }.count == 3)
        #expect(try text(ra) == text(rb))
        let bytesA = try Data(contentsOf: URL(fileURLWithPath: straight + "/checkpoint.safetensors"))
        let bytesB = try Data(contentsOf: URL(fileURLWithPath: split + "/checkpoint.safetensors"))
        #expect(bytesA == bytesB)

        // The evaluation split between the 2 processes equals one process's over the same batches.
        let e = try DetrProcess.run([
            "evaluate", "--config", w.config, "--weights", split + "/checkpoint.safetensors", "--images",
            w.data + "/val", "--annotations", w.data + "/annotations/val.json", "--batch-size", "2", "--json",
        ])
        #expect(e.status == 0, "\(e.stderr)")
        let alone = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Double])
        let logged = try #require(rb.last(where: { $0["eval"] as? Bool == true }))
        for key in ["AP", "AP50", "AP75", "AR100"] {
            #expect(alone[key] != nil && alone[key] == logged[key] as? Double, "\(key)")
        }

        // Its global batch of 4 cannot be shared by 3 processes.
        let d = try DetrProcess.run(
            Self.trainArgs(w, output: split) + ["--batch-size", "2", "--epochs", "4", "--resume", "--nproc", "3"])
        #expect(d.status == 1 && d.stderr.contains("which 3 processes cannot share evenly"), "\(d.stderr)")
    }

    /// A checkpoint resumes on another number of processes with its global batch: Conditional
    /// DETR, 1 process × batch 2 for 2 epochs straight, against 2 × 1 (`--pad-global-batch`) for
    /// the first epoch resumed by 1 process, and 1 × 2 resumed by 2 × 1 — the same steps, losses
    /// and weights as in the 2-against-1 equivalence above.
    @Test func resumesOnAnotherNumberOfProcesses() throws {
        let w = try Self.workspace(images: 12)
        defer { try? FileManager.default.removeItem(at: w.dir) }
        let straight = w.dir.appendingPathComponent("straight").path
        let a = try DetrProcess.run(Self.trainArgs(w, output: straight) + ["--batch-size", "2", "--epochs", "2"])
        #expect(a.status == 0, "\(a.stderr)")
        let two = ["--nproc", "2", "--pad-global-batch"], one: [String] = []
        for (name, first, batch, then) in [("2to1", two, "1", one), ("1to2", one, "2", two)] {
            let out = w.dir.appendingPathComponent(name).path
            let b = try DetrProcess.run(Self.trainArgs(w, output: out) + first + ["--batch-size", batch, "--epochs", "1"])
            #expect(b.status == 0, "\(name): \(b.stderr)")
            // The per-process batch follows from the checkpoint, whatever --batch-size says.
            let c = try DetrProcess.run(
                Self.trainArgs(w, output: out).filter { $0 != "--quiet" } + then
                    + ["--batch-size", "3", "--epochs", "2", "--resume"])
            #expect(c.status == 0, "\(name): \(c.stderr)")
            #expect(c.stderr.contains("the checkpoint was written by another number of processes"), "\(c.stderr)")
            let ra = try Self.records(straight + "/log.jsonl"), rb = try Self.records(out + "/log.jsonl")
            #expect(ra.count == rb.count && ra.count >= 8, "\(name): \(ra.count) and \(rb.count) records")
            let worst = try Self.worstLossDifference(ra, rb)
            #expect(worst < 1e-5, "\(name): largest relative loss difference \(worst)")
            let ta = try Self.modelTensors(straight + "/checkpoint.safetensors")
            let tb = try Self.modelTensors(out + "/checkpoint.safetensors")
            for (key, t) in ta where t.dtype.isFloatingPoint {
                let u = try #require(tb[key], "\(key)")
                #expect(TestSupport.maxAbsDiff(t, u) < 1e-3, "\(name): \(key)")
            }
        }
    }

    /// The worker processes a `detr train` (pid `parent`) started, by rank.
    static func workers(of parent: Int32) -> [Int: Int32] {
        var out: [Int: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == parent,
                let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ")
            else { continue }
            for item in environ.split(separator: 0) where item.starts(with: Array("RANK=".utf8)) {
                if let rank = Int(String(decoding: item.dropFirst(5), as: UTF8.self)) { out[rank] = pid }
            }
        }
        return out
    }

    static func waitForLog(_ path: String, lines: Int, while running: () -> Bool) {
        let deadline = Date().addingTimeInterval(600)  // a stalled run, not a slow one
        while running() && Date() < deadline {
            let n = (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").count ?? 0
            if n >= lines { return }
            usleep(20_000)
        }
    }

    /// Starts `executable` (default `detr`) with `args` and `environment` added, stderr to `stderr`.
    static func start(
        _ args: [String], executable: URL = DetrProcess.executable, environment: [String: String] = [:], stderr: URL
    ) throws -> Process {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: stderr)
        try p.run()
        return p
    }

    /// `count` `detr args` processes, process r with `environment(r)` and one intra-op thread,
    /// stderr to `directory/stderr<r>`.
    static func startRanks(
        _ count: Int, _ args: [String], directory: URL, environment: (Int) -> [String: String]
    ) throws -> [Process] {
        try (0..<count).map { rank in
            try start(
                args, environment: environment(rank).merging(["CTORCH_NUM_THREADS": "1"]) { $1 },
                stderr: directory.appendingPathComponent("stderr\(rank)"))
        }
    }

    static func waitForExit(_ p: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        return !p.isRunning
    }

    /// `--nproc 2`, then SIGKILL to rank 1 mid-run: the launcher stops rank 0 and exits 1 within
    /// seconds, naming rank 1 and the signal; no temporary file is left, and the checkpoint on
    /// disk (if an epoch had finished) is complete.
    @Test func killedWorkerStopsTheLaunchedRun() throws {
        let w = try Self.workspace(images: 24)
        defer { try? FileManager.default.removeItem(at: w.dir) }
        let out = w.dir.appendingPathComponent("run").path
        let err = w.dir.appendingPathComponent("stderr")
        let p = try Self.start(
            Self.trainArgs(w, output: out) + ["--batch-size", "1", "--epochs", "50", "--nproc", "2"], stderr: err)
        Self.waitForLog(out + "/log.jsonl", lines: 15) { p.isRunning }
        let pids = Self.workers(of: p.processIdentifier)
        #expect(pids.count == 2, "workers \(pids)")
        let victim = try #require(pids[1])
        let killed = Date()
        kill(victim, SIGKILL)
        let exited = Self.waitForExit(p, seconds: 60)
        if !exited { kill(p.processIdentifier, SIGKILL) }
        #expect(exited, "the launcher did not stop within 60 s")
        #expect(Date().timeIntervalSince(killed) < 30)
        #expect(p.terminationStatus == 1)
        let message = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        #expect(message.contains("rank 1 of 2 was killed by signal 9"), "\(message)")
        #expect(Self.workers(of: p.processIdentifier).isEmpty)
        let names = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")
        if names.contains("checkpoint.safetensors") {
            #expect(throws: Never.self) { _ = try Self.modelTensors(out + "/checkpoint.safetensors") }
        }
    }

    /// torchrun-style: two `detr train` processes started with RANK/WORLD_SIZE/MASTER_ADDR/
    /// MASTER_PORT (rank 0 hosts the store). SIGKILL to rank 1: rank 0 fails within seconds with an
    /// error naming rank 1.
    @Test func killedWorkerIsNamedByTheOthers() throws {
        let w = try Self.workspace(images: 24)
        defer { try? FileManager.default.removeItem(at: w.dir) }
        let out = w.dir.appendingPathComponent("run").path
        let port = try RendezvousServer(timeout: 1).port  // a free port, released at once
        let args = Self.trainArgs(w, output: out) + ["--batch-size", "1", "--epochs", "50"]
        let ranks = try Self.startRanks(2, args, directory: w.dir) { rank in
            [
                "RANK": "\(rank)", "WORLD_SIZE": "2", "LOCAL_RANK": "\(rank)", "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": "\(port)",
            ]
        }
        defer { for p in ranks where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        Self.waitForLog(out + "/log.jsonl", lines: 15) { ranks.allSatisfy(\.isRunning) }
        #expect(ranks.allSatisfy { $0.isRunning })
        let killed = Date()
        kill(ranks[1].processIdentifier, SIGKILL)
        #expect(Self.waitForExit(ranks[0], seconds: 60), "rank 0 did not stop within 60 s")
        #expect(Date().timeIntervalSince(killed) < 30)
        #expect(ranks[0].terminationStatus == 1)
        let message = (try? String(contentsOf: w.dir.appendingPathComponent("stderr0"), encoding: .utf8)) ?? ""
        #expect(message.contains("rank 1 stopped responding"), "\(message)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")
    }

    /// An `srun` step: two `detr train` tasks with the variables srun sets (no torchrun ones); rank
    /// 0 hosts the store at the first host of the node list and both train one data-parallel run.
    @Test func srunTasksTrainTogether() throws {
        let w = try Self.workspace(images: 6)
        defer { try? FileManager.default.removeItem(at: w.dir) }
        let out = w.dir.appendingPathComponent("run").path
        let port = try RendezvousServer(timeout: 1).port  // a free port, released at once
        var args = Self.trainArgs(w, output: out) + ["--batch-size", "1", "--epochs", "1"]
        args.removeAll { $0 == "--quiet" }
        let tasks = try Self.startRanks(2, args, directory: w.dir) { rank in
            [
                "SLURM_JOB_ID": "42", "SLURM_JOB_NODELIST": "localhost", "SLURM_NTASKS": "2",
                "SLURM_PROCID": "\(rank)", "SLURM_LOCALID": "\(rank)", "SLURM_STEP_ID": "0", "MASTER_PORT": "\(port)",
            ]
        }
        defer { for p in tasks where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        for p in tasks { #expect(Self.waitForExit(p, seconds: 300)) }
        let message = (try? String(contentsOf: w.dir.appendingPathComponent("stderr0"), encoding: .utf8)) ?? ""
        #expect(tasks.allSatisfy { $0.terminationStatus == 0 }, "\(message)")
        #expect(message.contains("data-parallel: 2 processes"), "\(message)")
        let checkpoint = try Safetensors.read(contentsOf: URL(fileURLWithPath: out + "/checkpoint.safetensors"))
        #expect(checkpoint.metadata["extra.world_size"] == "2")
    }
}
