import Foundation
import TestSupport
import Testing
import Torch

/// The training pipeline end to end through the CLI, at toy scale: synth → train (2 epochs)
/// → resume (1 more) → evaluate the checkpoint. The full-scale run is Benchmarks/training.
@Suite(.serialized) struct TrainCLITests {
    @Test func synthTrainResumeEvaluate() throws {
        let dir = try TestSupport.temporaryDirectory("train-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path, out = dir.appendingPathComponent("run").path
        let config = dir.appendingPathComponent("tiny.json")
        try Data(
            """
            {"architecture": "conditional_detr", "num_classes": 4, "num_queries": 8, "hidden_dim": 32, "num_heads": 4,
             "num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": 32, "dropout": 0.0,
             "backbone": {"block": "basic", "layers": [1, 1, 1, 1]}, "min_size": 64, "max_size": 96, "num_select": 8}
            """.utf8
        ).write(to: config)

        let s = try DetrProcess.run(["synth", "--output", data, "--images", "10", "--seed", "3", "--size", "64-80"])
        #expect(s.status == 0, "\(s.stderr)")
        let common = [
            "train", "--config", config.path, "--train-images", data + "/train",
            "--train-annotations", data + "/annotations/train.json", "--val-images", data + "/val",
            "--val-annotations", data + "/annotations/val.json", "--output", out, "--batch-size", "4",
            "--workers", "1", "--lr", "1e-3", "--lr-backbone", "1e-3", "--quiet", "--keep-epochs", "2",
            // The weight average is what is evaluated, kept as best_* and read from the checkpoint.
            "--ema-decay", "0.6", "--ema-tau", "2",
        ]
        let t = try DetrProcess.run(common + ["--epochs", "2"])
        #expect(t.status == 0, "\(t.stderr)")
        let r = try DetrProcess.run(common + ["--epochs", "3", "--resume"])
        #expect(r.status == 0, "\(r.stderr)")

        let lines = try String(contentsOfFile: out + "/log.jsonl", encoding: .utf8).split(separator: "\n")
        let records = try lines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let evals = records.filter { $0["eval"] as? Bool == true }
        #expect(evals.map { $0["epoch"] as? Int } == [1, 2, 3])
        let steps = records.filter { $0["eval"] == nil }
        #expect(
            steps.allSatisfy {
                ($0["loss"] as? Double)?.isFinite == true && $0["loss_ce"] != nil && $0["loss_giou_0"] == nil
            })
        // One log line per optimizer step, numbered continuously across the resume.
        #expect((steps.last?["step"] as? Int) == steps.count && steps.count >= 6)

        let e = try DetrProcess.run([
            "evaluate", "--config", config.path, "--weights", out + "/checkpoint.safetensors",
            "--images", data + "/val", "--annotations", data + "/annotations/val.json", "--json",
        ])
        #expect(e.status == 0, "\(e.stderr)")
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Double])
        #expect(stats["AP50"] != nil)

        // --keep-epochs 2: the last two epochs' checkpoints; best_ap/best_ap50: the weights of the
        // evaluation marked best, which evaluate to the logged numbers (same batches).
        let fm = FileManager.default
        #expect(!fm.fileExists(atPath: out + "/epoch_1.safetensors"))
        #expect(
            fm.fileExists(atPath: out + "/epoch_2.safetensors") && fm.fileExists(atPath: out + "/epoch_3.safetensors"))
        for (metric, file) in [("AP", "best_ap.safetensors"), ("AP50", "best_ap50.safetensors")] {
            var best = -Double.infinity
            var bestEpoch = 0
            for record in evals {
                let value = try #require(record[metric] as? Double)
                let marked = (record["best"] as? [String] ?? []).contains(metric)
                #expect(marked == (value > best), "\(metric) epoch \(record["epoch"] ?? "?")")
                if value > best { (best, bestEpoch) = (value, record["epoch"] as! Int) }
            }
            let stored = try Safetensors.read(contentsOf: URL(fileURLWithPath: out + "/" + file))
            #expect(stored.metadata["epoch"] == "\(bestEpoch)" && stored.metadata["class_names"] != nil)
            let again = try DetrProcess.run([
                "evaluate", "--config", config.path, "--weights", out + "/" + file, "--images", data + "/val",
                "--annotations", data + "/annotations/val.json", "--batch-size", "4", "--json",
            ])
            #expect(again.status == 0, "\(again.stderr)")
            let numbers = try #require(
                try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Double])
            #expect(abs((numbers[metric] ?? -1) - best) < 1e-9, "\(file): \(numbers[metric] ?? -1) vs logged \(best)")
        }

        // Resuming past the last epoch does nothing; a missing checkpoint is a one-line error.
        let missing = try DetrProcess.run(
            common.map { $0 == out ? dir.appendingPathComponent("none").path : $0 } + ["--resume"])
        #expect(missing.status == 1 && missing.stderr.contains("no checkpoint"))
    }
}

/// `kill -9` in the middle of an epoch, then `--resume`: the resumed run continues from the last
/// checkpoint and reproduces the uninterrupted run exactly (every later step's losses, the
/// evaluations, the final checkpoint's bytes), and its log reads as if it had never stopped.
/// Once with the checkpoint of the last epoch, once with one written inside the epoch
/// (`--checkpoint-every 2`), from which the run continues with the epoch's next batch.
@Suite(.serialized) struct KillResumeCLITests {
    static let config = """
        {"architecture": "conditional_detr", "num_classes": 4, "num_queries": 8, "hidden_dim": 32, "num_heads": 4,
         "num_encoder_layers": 1, "num_decoder_layers": 2, "dim_feedforward": 32, "dropout": 0.1,
         "backbone": {"block": "basic", "layers": [1, 1, 1, 1]}, "min_size": 64, "max_size": 96, "num_select": 8}
        """

    static func records(_ path: String) throws -> [[String: Any]] { try TestSupport.jsonLines(path) }

    @Test func killedMidEpochResumesExactly() throws {
        let dir = try TestSupport.temporaryDirectory("kill-resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        let config = dir.appendingPathComponent("tiny.json")
        try Data(Self.config.utf8).write(to: config)
        let s = try DetrProcess.run(["synth", "--output", data, "--images", "40", "--seed", "5", "--size", "64-80"])
        #expect(s.status == 0, "\(s.stderr)")
        func args(_ out: String) -> [String] {
            [
                "train", "--config", config.path, "--train-images", data + "/train", "--train-annotations",
                data + "/annotations/train.json", "--val-images", data + "/val", "--val-annotations",
                data + "/annotations/val.json",
                "--output", out, "--batch-size", "4", "--workers", "2", "--lr", "1e-3", "--lr-backbone", "1e-3",
                "--epochs", "3", "--quiet",
            ]
        }
        let straight = dir.appendingPathComponent("straight").path, killed = dir.appendingPathComponent("killed").path
        let a = try DetrProcess.run(args(straight))
        #expect(a.status == 0, "\(a.stderr)")
        let reference = try Self.records(straight + "/log.jsonl")
        let stepsPerEpoch = reference.filter { $0["eval"] == nil && ($0["epoch"] as? Int) == 0 }.count
        #expect(stepsPerEpoch >= 4)

        for every in [0, 2] {
            let killed = killed + "-\(every)"
            try Self.killAndResume(
                args(killed) + (every > 0 ? ["--checkpoint-every", "\(every)"] : []), output: killed,
                stepsPerEpoch: stepsPerEpoch, inside: every > 0, reference: reference)
            let bytesA = try Data(contentsOf: URL(fileURLWithPath: straight + "/checkpoint.safetensors"))
            let bytesB = try Data(contentsOf: URL(fileURLWithPath: killed + "/checkpoint.safetensors"))
            #expect(bytesA == bytesB, "--checkpoint-every \(every)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: killed).filter { $0.hasPrefix(".") }.isEmpty)
        }
    }

    /// Starts `args`, SIGKILLs it 3 steps into its second epoch, checks where its checkpoint
    /// stands (`inside`: within that epoch), resumes it and compares the log with `reference`.
    static func killAndResume(
        _ args: [String], output killed: String, stepsPerEpoch: Int, inside: Bool, reference: [[String: Any]]
    ) throws {
        let p = try DetrProcess.start(args)
        let log = killed + "/log.jsonl"
        let deadline = Date().addingTimeInterval(300)
        while p.isRunning && Date() < deadline {
            let lines = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").count ?? 0
            if lines >= stepsPerEpoch + 1 + 3 { break }  // epoch 1's steps + its evaluation + 3 steps
            usleep(2_000)
        }
        #expect(p.isRunning, "the run finished before it could be killed")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)
        // Complete lines only: the kill may have torn the last one (the resume drops it).
        let partial = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(partial.count > stepsPerEpoch + 1, "killed after epoch 1 had finished")
        let saved = try Safetensors.read(contentsOf: URL(fileURLWithPath: killed + "/checkpoint.safetensors")).metadata
        #expect(saved["epoch"] == "1")
        let position = saved["extra.iteration"].flatMap(Int.init)
        if inside {
            #expect(position.map { (1..<stepsPerEpoch).contains($0) } == true, "position \(position ?? -1)")
        } else {
            #expect(position == nil)
        }

        let r = try DetrProcess.run(args + ["--resume"])
        #expect(r.status == 0, "\(r.stderr)")
        let resumed = try Self.records(log)
        // Same records in the same order: no duplicate steps from the interrupted epoch, and every
        // step's losses and every evaluation equal the uninterrupted run's (JSON text compared).
        func text(_ r: [[String: Any]]) throws -> [String] {
            try r.map {
                String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self)
            }
        }
        #expect(resumed.count == reference.count)
        #expect(try text(resumed) == text(reference))
    }
}

/// `--checkpoint-activations all` trains the same model: Conditional DETR (dropout 0.1), 2
/// epochs, against the same run without it: the same losses and the same final weights, to the
/// bit (measured; a float32 rounding difference, were one to appear, would be amplified by AdamW
/// where a gradient is nearly zero, as the data-parallel equivalence test explains). Salience
/// DETR is not compared over steps: its token selection is discrete, so a rounding difference
/// of any origin (1 against 2 threads without checkpointing alike) grows to percent-level loss
/// differences within 5 steps at this learning rate; `ActivationCheckpointTests` compares its
/// single step.
@Suite struct ActivationCheckpointCLITests {
    @Test func checkpointedTrainingIsTheSameTraining() throws {
        let config = DistributedTrainCLITests.conditional.replacingOccurrences(
            of: "\"dropout\": 0.0", with: "\"dropout\": 0.1")
        #expect(config.contains("\"dropout\": 0.1"))
        let w = try DistributedTrainCLITests.workspace(images: 12, config: config)
        defer { try? FileManager.default.removeItem(at: w.dir) }
        var logs: [[[String: Any]]] = [], weights: [StateDict] = []
        for parts in ["none", "all"] {
            let out = w.dir.appendingPathComponent(parts).path
            let r = try DetrProcess.run(
                DistributedTrainCLITests.trainArgs(w, output: out)
                    + ["--batch-size", "2", "--epochs", "2", "--checkpoint-activations", parts])
            #expect(r.status == 0, "\(r.stderr)")
            logs.append(try DistributedTrainCLITests.records(out + "/log.jsonl"))
            weights.append(try DistributedTrainCLITests.modelTensors(out + "/checkpoint.safetensors"))
        }
        #expect(logs[0].count >= 4 && logs[0].count == logs[1].count)
        let worstLoss = try DistributedTrainCLITests.worstLossDifference(logs[0], logs[1])
        #expect(worstLoss == 0, "largest relative loss difference \(worstLoss)")
        var worst = 0.0, worstKey = ""
        for (key, t) in weights[0] where t.dtype.isFloatingPoint {
            let u = try #require(weights[1][key], "\(key)")
            let d = TestSupport.maxAbsDiff(t, u)
            if !(d <= worst) { (worst, worstKey) = (d, key) }
        }
        #expect(worst == 0, "largest weight difference \(worst) at \(worstKey)")
        if ProcessInfo.processInfo.environment["CHECKPOINT_REPORT"] != nil {
            print("checkpointed training: loss \(worstLoss), weights \(worst) at \(worstKey)")
        }
        let bad = try DetrProcess.run(
            DistributedTrainCLITests.trainArgs(w, output: w.dir.appendingPathComponent("bad").path)
                + ["--checkpoint-activations", "decoder"])
        #expect(bad.status == 64 && bad.stderr.contains("checkpoint-activations"), "\(bad.stderr)")
    }
}
