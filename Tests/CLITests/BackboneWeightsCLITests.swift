import Foundation
import TestSupport
import Testing
import Torch

/// `detr train` with `"num_classes": "auto"` and `--backbone-weights`: the class count comes from
/// the dataset, and a backbone file of the published layout (bare keys plus the classifier head)
/// is loaded, reported in one line, and its early stages stay frozen as in the official recipe.
@Suite(.serialized) struct BackboneWeightsCLITests {
    @Test func autoClassesAndPublishedBackboneWeights() throws {
        let dir = try TestSupport.temporaryDirectory("bbw-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        let config = dir.appendingPathComponent("tiny.json")
        try Data(
            """
            {"architecture": "conditional_detr", "num_classes": "auto", "num_queries": 8, "hidden_dim": 32,
             "num_heads": 4, "num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": 32, "dropout": 0.0,
             "backbone": {"block": "basic", "layers": [1, 1, 1, 1]}, "min_size": 64, "max_size": 96, "num_select": 8}
            """.utf8
        ).write(to: config)
        let s = try DetrProcess.run(["synth", "--output", data, "--images", "6", "--seed", "4", "--size", "64-80"])
        #expect(s.status == 0, "\(s.stderr)")
        func train(_ out: String, _ extra: [String]) throws -> DetrProcess.Result {
            try DetrProcess.run(
                [
                    "train", "--config", config.path, "--train-images", data + "/train",
                    "--train-annotations", data + "/annotations/train.json", "--output", out, "--batch-size", "2",
                    "--workers", "1", "--lr", "1e-3", "--lr-backbone", "1e-3", "--epochs", "1",
                ] + extra)
        }
        let first = dir.appendingPathComponent("first").path
        let a = try train(first, [])
        #expect(a.status == 0, "\(a.stderr)")
        let annotations = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: data + "/annotations/train.json")))
                as? [String: Any])
        let ids = try #require(annotations["categories"] as? [[String: Any]]).compactMap { $0["id"] as? Int }
        let classes = try #require(ids.max()) + 1
        #expect(a.stderr.contains("num_classes auto: \(classes)"), "\(a.stderr)")
        let written = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: first + "/config.json")))
                as? [String: Any])
        #expect(written["num_classes"] as? Int == classes)

        // A published-layout ResNet file: the first run's backbone under bare keys, plus `fc.*`.
        let checkpoint = try Safetensors.read(contentsOf: URL(fileURLWithPath: first + "/checkpoint.safetensors"))
        let prefix = "model.backbone.0.body."
        var file = checkpoint.tensors.stripping(prefix: prefix)
        let backboneCount = file.count
        #expect(backboneCount > 0)
        file["fc.weight"] = Tensor.randn([1000, 512])
        file["fc.bias"] = Tensor.randn([1000])
        let weights = dir.appendingPathComponent("resnet.safetensors")
        try Safetensors.write(file, to: weights)

        let second = dir.appendingPathComponent("second").path
        let b = try train(second, ["--backbone-weights", weights.path])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(
            b.stderr.contains(
                "backbone weights \(weights.path): \(backboneCount) tensors into backbone.0.body; "
                    + "unused entries of the file: 2 (fc.weight, fc.bias); left at initialisation: none"),
            "\(b.stderr)")
        let trained = try Safetensors.read(contentsOf: URL(fileURLWithPath: second + "/checkpoint.safetensors")).tensors
        // The official recipe freezes the stem and layer1 of a pretrained backbone; layer2-4 train.
        for key in ["conv1.weight", "layer1.0.conv1.weight", "layer2.0.conv1.weight"] {
            let now = try #require(trained[prefix + key]), loaded = try #require(file[key])
            let same = TestSupport.maxAbsDiff(now, loaded) == 0
            #expect(same == !key.hasPrefix("layer2"), "\(key): frozen \(same)")
        }

        let bad = try train(dir.appendingPathComponent("third").path, ["--backbone-weights", config.path])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains(config.path), "\(bad.stderr)")
    }
}
