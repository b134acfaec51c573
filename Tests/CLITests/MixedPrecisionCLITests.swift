import Foundation
import TestSupport
import Testing
import Torch

/// `--precision bf16|fp16` through the CLI: the bundled demo model's held-out AP, and training
/// (bf16; fp16 with dynamic loss scaling, resumed exactly).
@Suite(.serialized) struct MixedPrecisionCLITests {
    static let demoConfig = TestSupport.repoRoot.appendingPathComponent("demo/shapes-salience.json").path
    static let demoWeights = TestSupport.repoRoot.appendingPathComponent("demo/shapes-salience.safetensors").path

    /// Held-out images: `detr synth` with a seed other than the demo model's training seed (7).
    @Test func demoModelHeldOutAPWithinOneHundredthOfFloat32() throws {
        let dir = try TestSupport.temporaryDirectory("precision-ap")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        let s = try DetrProcess.run([
            "synth", "--output", data, "--images", "200", "--seed", "2025", "--val-fraction", "0.99",
        ])
        #expect(s.status == 0, "\(s.stderr)")
        func evaluate(_ precision: String) throws -> [String: Double] {
            let e = try DetrProcess.run([
                "evaluate", "--config", Self.demoConfig, "--weights", Self.demoWeights, "--images", data + "/val",
                "--annotations", data + "/annotations/val.json", "--batch-size", "4", "--json", "--quiet",
                "--precision", precision,
            ])
            #expect(e.status == 0, "\(precision): \(e.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Double])
        }
        let full = try evaluate("fp32")
        #expect((full["AP"] ?? 0) > 0.5, "the demo model should detect the shapes: \(full)")
        for precision in ["bf16", "fp16"] {
            let mixed = try evaluate(precision)
            for key in ["AP", "AP50", "AP75"] {
                let (a, b) = (mixed[key] ?? -1, full[key] ?? -1)
                #expect(abs(a - b) <= 0.01, "\(precision) \(key) \(a) vs fp32 \(b)")
            }
        }
    }

    /// `--precision bf16` says so on a CPU without bfloat16 arithmetic, and only there (the test
    /// runs on the same CPU as the command); fp32 never does.
    @Test func bf16OnACPUWithoutItsArithmeticIsNoted() throws {
        let sample = TestSupport.repoRoot.appendingPathComponent("demo/samples/shapes-1.png").path
        let emulated = Engine.current.bf16Path == "emulated"
        for precision in ["bf16", "fp32"] {
            let p = try DetrProcess.run([
                "predict", "--config", Self.demoConfig, "--weights", Self.demoWeights, "--precision", precision, sample,
            ])
            #expect(p.status == 0, "\(p.stderr)")
            let noted = p.stderr.contains("--precision bf16: this CPU has no bfloat16 arithmetic")
            #expect(noted == (precision == "bf16" && emulated), "\(precision): \(p.stderr)")
        }
    }

    static func trainArguments(
        config: String, data: String, out: String, precision: String, epochs: Int
    )
        -> [String]
    {
        [
            "train", "--config", config, "--train-images", data + "/train", "--train-annotations",
            data + "/annotations/train.json", "--output", out, "--batch-size", "4", "--workers", "1", "--lr", "1e-3",
            "--lr-backbone", "1e-3", "--lr-drop", "10", "--epochs", "\(epochs)", "--precision", precision, "--quiet",
        ]
    }

    @Test func mixedPrecisionTrainingRunsAndFp16ResumesExactly() throws {
        let dir = try TestSupport.temporaryDirectory("precision-train")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path
        let config = dir.appendingPathComponent("tiny.json").path
        try Data(KillResumeCLITests.config.utf8).write(to: URL(fileURLWithPath: config))
        let s = try DetrProcess.run(["synth", "--output", data, "--images", "12", "--seed", "5", "--size", "64-80"])
        #expect(s.status == 0, "\(s.stderr)")

        // First-step losses: the same data and initial weights in fp32, bf16 and fp16.
        var first: [String: Double] = [:]
        for precision in ["fp32", "bf16", "fp16"] {
            let out = dir.appendingPathComponent("one-\(precision)").path
            let t = try DetrProcess.run(
                Self.trainArguments(config: config, data: data, out: out, precision: precision, epochs: 1))
            #expect(t.status == 0, "\(precision): \(t.stderr)")
            let steps = try TestSupport.jsonLines(out + "/log.jsonl").filter { $0["eval"] == nil }
            #expect(!steps.isEmpty && steps.allSatisfy { ($0["loss"] as? Double)?.isFinite == true })
            first[precision] = steps.first?["loss"] as? Double
        }
        let reference = try #require(first["fp32"])
        for precision in ["bf16", "fp16"] {
            let loss = try #require(first[precision])
            // Autocast ran (not bit-identical) and stayed close: measured within 0.5% on this data.
            #expect(loss != reference, "\(precision) loss equals fp32 bit for bit: autocast did not run")
            #expect(abs(loss - reference) <= 0.02 * reference, "\(precision) first loss \(loss) vs fp32 \(reference)")
        }

        // fp16: 2 epochs straight equal 1 epoch + resume to 2 (loss scale and counters restored; the
        // fixed --lr-drop keeps the schedule independent of --epochs).
        let straight = dir.appendingPathComponent("straight").path, split = dir.appendingPathComponent("split").path
        let a = try DetrProcess.run(
            Self.trainArguments(config: config, data: data, out: straight, precision: "fp16", epochs: 2))
        #expect(a.status == 0, "\(a.stderr)")
        let b1 = try DetrProcess.run(
            Self.trainArguments(config: config, data: data, out: split, precision: "fp16", epochs: 1))
        #expect(b1.status == 0, "\(b1.stderr)")
        let b2 = try DetrProcess.run(
            Self.trainArguments(config: config, data: data, out: split, precision: "fp16", epochs: 2) + ["--resume"])
        #expect(b2.status == 0, "\(b2.stderr)")
        let bytesA = try Data(contentsOf: URL(fileURLWithPath: straight + "/checkpoint.safetensors"))
        let bytesB = try Data(contentsOf: URL(fileURLWithPath: split + "/checkpoint.safetensors"))
        #expect(bytesA == bytesB, "the resumed fp16 run's checkpoint differs from the straight run's")
        let metadata = try Safetensors.read(contentsOf: URL(fileURLWithPath: straight + "/checkpoint.safetensors"))
            .metadata
        #expect(metadata["extra.loss_scaler"]?.contains("\"scale\"") == true, "\(metadata.keys.sorted())")
    }
}
