import Foundation
import Testing
import TestSupport
import Torch

/// The training pipeline end to end through the CLI, at toy scale: synth → train (2 epochs)
/// → resume (1 more) → evaluate the checkpoint. The full-scale run is Benchmarks/training.
@Suite(.serialized) struct TrainCLITests {
    @Test func synthTrainResumeEvaluate() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("train-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path, out = dir.appendingPathComponent("run").path
        let config = dir.appendingPathComponent("tiny.json")
        try Data("""
            {"architecture": "conditional_detr", "num_classes": 4, "num_queries": 8, "hidden_dim": 32, "num_heads": 4,
             "num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": 32, "dropout": 0.0,
             "backbone": {"block": "basic", "layers": [1, 1, 1, 1]}, "min_size": 64, "max_size": 96, "num_select": 8}
            """.utf8).write(to: config)

        let s = try DetrProcess.run(["synth", "--output", data, "--images", "10", "--seed", "3", "--size", "64-80"])
        #expect(s.status == 0, "\(s.stderr)")
        let common = ["train", "--config", config.path, "--train-images", data + "/train",
                      "--train-annotations", data + "/annotations/train.json", "--val-images", data + "/val",
                      "--val-annotations", data + "/annotations/val.json", "--output", out, "--batch-size", "4",
                      "--workers", "1", "--lr", "1e-3", "--lr-backbone", "1e-3", "--quiet"]
        let t = try DetrProcess.run(common + ["--epochs", "2"])
        #expect(t.status == 0, "\(t.stderr)")
        let r = try DetrProcess.run(common + ["--epochs", "3", "--resume"])
        #expect(r.status == 0, "\(r.stderr)")

        let lines = try String(contentsOfFile: out + "/log.jsonl", encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let evals = records.filter { $0["eval"] as? Bool == true }
        #expect(evals.map { $0["epoch"] as? Int } == [1, 2, 3])
        let steps = records.filter { $0["eval"] == nil }
        #expect(steps.allSatisfy { ($0["loss"] as? Double)?.isFinite == true && $0["loss_ce"] != nil && $0["loss_giou_0"] == nil })
        // One log line per optimizer step, numbered continuously across the resume.
        #expect((steps.last?["step"] as? Int) == steps.count && steps.count >= 6)

        let e = try DetrProcess.run(["evaluate", "--config", config.path, "--weights", out + "/checkpoint.safetensors",
                                     "--images", data + "/val", "--annotations", data + "/annotations/val.json", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Double])
        #expect(stats["AP50"] != nil)

        // Resuming past the last epoch does nothing; a missing checkpoint is a one-line error.
        let missing = try DetrProcess.run(common.map { $0 == out ? dir.appendingPathComponent("none").path : $0 } + ["--resume"])
        #expect(missing.status == 1 && missing.stderr.contains("no checkpoint"))
    }
}
