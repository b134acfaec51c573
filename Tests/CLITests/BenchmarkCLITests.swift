import Foundation
import TestSupport
import Testing

/// `detr benchmark` in inference and training-step mode, at toy scale (timings themselves are
/// not checked: they belong to Benchmarks/, never to tests).
@Suite struct BenchmarkCLITests {
    static let configs = [
        """
        {"architecture": "conditional_detr", "num_classes": 4, "num_queries": 8, "hidden_dim": 32, "num_heads": 4,
         "num_encoder_layers": 1, "num_decoder_layers": 2, "dim_feedforward": 32, "dropout": 0.1, "group_detr": 2,
         "backbone": {"block": "basic", "layers": [1, 1, 1, 1]}, "min_size": 64, "max_size": 96, "num_select": 8}
        """,
        """
        {"architecture": "salience_detr", "num_classes": 4, "num_queries": 10, "embed_dim": 32, "num_heads": 4,
         "num_feature_levels": 4, "num_points": 2, "num_encoder_layers": 1, "num_decoder_layers": 2, "dim_feedforward": 32,
         "dropout": 0.0, "topk_sa": 10, "max_num_embedding": 20, "level_filter_ratio": [0.5, 1.0, 1.0, 1.0],
         "layer_filter_ratio": [1.0], "backbone": {"block": "basic", "layers": [1, 1, 1, 1], "return_indices": [1, 2, 3],
         "freeze_indices": []}, "transformer_neck": {"type": "repvgg_plux", "groups": 4},
         "denoising": {"num": 5, "label_noise_prob": 0.5, "box_noise_scale": 1.0}, "min_size": 64, "max_size": 96, "num_select": 10}
        """,
    ]

    @Test(arguments: [0, 1]) func inferenceAndTrainingModes(_ which: Int) throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).json")
        try Data(Self.configs[which].utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        for train in [false, true] {
            let r = try DetrProcess.run(
                [
                    "benchmark", "--config", config.path, "--size", "64x64", "--batch-size", "2",
                    "--iterations", "2", "--warmup", "1", "--json",
                ] + (train ? ["--train"] : []))
            #expect(r.status == 0, "\(r.stderr)")
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(obj["mode"] as? String == (train ? "train" : "inference"))
            #expect((obj["images_per_s"] as? Double).map { $0 > 0 } == true)
            #expect((obj["parameters"] as? Int).map { $0 > 0 } == true)
            if train {
                #expect(obj["multiply_adds"] == nil)
            } else {
                // One forward's multiply-adds, and per stage (they add up).
                let total = try #require(obj["multiply_adds"] as? Int)
                let stages = try #require(obj["multiply_adds_by_stage"] as? [String: Int])
                #expect(total > 0 && stages.values.reduce(0, +) == total)
                #expect(Set(["backbone", "encoder", "decoder", "heads"]).isSubset(of: Set(stages.keys)), "\(stages)")
            }
        }
        let bad = try DetrProcess.run(["benchmark", "--config", config.path, "--train", "--breakdown"])
        #expect(bad.status == 64 && bad.stderr.contains("--breakdown"))
    }

    /// The operator profile of one more iteration, as JSON, for inference and a training step.
    @Test func profilePrintsOperators() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).json")
        try Data(Self.configs[1].utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        for train in [false, true] {
            let r = try DetrProcess.run(
                [
                    "benchmark", "--config", config.path, "--size", "64x64", "--iterations", "1",
                    "--warmup", "0", "--json", "--profile", "5",
                ] + (train ? ["--train"] : []))
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.split(separator: "\n")
            let profile = try #require(
                try JSONSerialization.jsonObject(with: Data((lines.last ?? "").utf8)) as? [String: Any])
            let ops = try #require(profile["profile"] as? [[String: Any]])
            #expect(ops.count == 5 && ops.allSatisfy { ($0["self_ms"] as? Double).map { $0 >= 0 } == true })
            #expect(ops.contains { ($0["name"] as? String)?.hasPrefix("aten::") == true })
        }
    }

    /// Device names are checked while parsing: a wrong one is a usage error listing the valid ones.
    @Test func unknownDeviceIsAUsageError() throws {
        let r = try DetrProcess.run(["benchmark", "--config", "conditional-detr-r50", "--device", "gpu"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("'gpu'") && r.stderr.contains("cuda:N"), "\(r.stderr)")
    }
}
