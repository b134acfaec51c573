import Foundation
import Testing
import TestSupport

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
            let r = try DetrProcess.run(["benchmark", "--config", config.path, "--size", "64x64", "--batch-size", "2",
                                         "--iterations", "2", "--warmup", "1", "--json"] + (train ? ["--train"] : []))
            #expect(r.status == 0, "\(r.stderr)")
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(obj["mode"] as? String == (train ? "train" : "inference"))
            #expect((obj["images_per_s"] as? Double).map { $0 > 0 } == true)
            #expect((obj["parameters"] as? Int).map { $0 > 0 } == true)
        }
        let bad = try DetrProcess.run(["benchmark", "--config", config.path, "--train", "--breakdown"])
        #expect(bad.status == 64 && bad.stderr.contains("--breakdown"))
    }
}
