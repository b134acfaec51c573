import Foundation
import TestSupport
import Testing

/// Salience DETR trains with each backbone through the CLI at toy scale: synth → train one epoch
/// from scratch → resume for a second; every logged loss is finite, steps are numbered across the
/// resume, and the checkpoint evaluates.
@Suite(.serialized) struct BackboneTrainCLITests {
    static let backbones = [
        "swin":
            #"{"type": "swin", "embed_dim": 8, "depths": [1, 1, 2, 1], "num_heads": [1, 2, 2, 4], "window_size": [4, 4]}"#,
        "convnext": #"{"type": "convnext", "channels": [8, 16, 32, 64], "depths": [1, 1, 2, 1]}"#,
        "focalnet": #"{"type": "focalnet", "embed_dim": 8, "depths": [1, 1, 2, 1], "focal_levels": [2, 2, 2, 2]}"#,
    ]

    @Test(arguments: ["swin", "convnext", "focalnet"])
    func trainsAndResumes(backbone: String) throws {
        let dir = try TestSupport.temporaryDirectory("bb-train")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path, out = dir.appendingPathComponent("run").path
        let config = dir.appendingPathComponent("tiny.json")
        try Data(
            """
            {"architecture": "salience_detr", "num_classes": 5, "num_queries": 12, "embed_dim": 32, "num_heads": 4,
             "num_encoder_layers": 1, "layer_filter_ratio": [1.0], "num_decoder_layers": 2, "dim_feedforward": 64,
             "topk_sa": 8, "denoising": {"num": 6}, "num_select": 10, "min_size": 64, "max_size": 96,
             "backbone": \(try #require(Self.backbones[backbone]))}
            """.utf8
        ).write(to: config)
        let s = try DetrProcess.run(["synth", "--output", data, "--images", "8", "--seed", "5", "--size", "64-80"])
        #expect(s.status == 0, "\(s.stderr)")
        let common = [
            "train", "--config", config.path, "--train-images", data + "/train",
            "--train-annotations", data + "/annotations/train.json", "--output", out, "--batch-size", "2",
            "--workers", "1", "--lr", "1e-4", "--quiet",
        ]
        let t = try DetrProcess.run(common + ["--epochs", "1"])
        #expect(t.status == 0, "\(backbone): \(t.stderr)")
        let r = try DetrProcess.run(common + ["--epochs", "2", "--resume"])
        #expect(r.status == 0, "\(backbone): \(r.stderr)")
        let steps = try String(contentsOfFile: out + "/log.jsonl", encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(steps.count >= 4, "\(backbone): \(steps.count) steps")
        #expect(steps.map { $0["step"] as? Int } == (1...steps.count).map { $0 }, "\(backbone): step numbers")
        #expect(Set(steps.compactMap { $0["epoch"] as? Int }) == [0, 1], "\(backbone): epochs")
        for record in steps {
            for (key, value) in record where key.hasPrefix("loss") {
                #expect((value as? Double)?.isFinite == true, "\(backbone): \(key) = \(value)")
            }
        }
        let e = try DetrProcess.run([
            "evaluate", "--config", config.path, "--weights", out + "/checkpoint.safetensors",
            "--images", data + "/val", "--annotations", data + "/annotations/val.json", "--json",
        ])
        #expect(e.status == 0, "\(backbone): \(e.stderr)")
    }
}
