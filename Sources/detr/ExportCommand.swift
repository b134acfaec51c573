import ArgumentParser
import Detection
import Foundation
import Torch

/// `detr export`: a model-only `.safetensors` from any weight file (official .pth, training checkpoint).
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the model weights of a checkpoint as a compact .safetensors file.",
        discussion: "Optimizer state and other entries are dropped; --half stores floating tensors as float16 (loading upcasts them).")

    @Option(help: "Input weights (.pth or .safetensors, official or swift-detr training checkpoint).")
    var weights: String

    @Option(help: "Output .safetensors file.")
    var output: String

    @Flag(help: "Store floating-point tensors as float16 (half the size).")
    var half = false

    func run() throws {
        do {
            let loaded = try WeightFile.load(URL(fileURLWithPath: weights))
            var tensors = loaded.metadata["format"] == DetectorFactory.checkpointFormatTag
                ? loaded.tensors.stripping(prefix: "model.") : loaded.tensors
            if half {
                for (k, v) in tensors where v.dtype == .float32 || v.dtype == .float64 { tensors[k] = v.to(.float16) }
            }
            var meta: [String: String] = ["source": (weights as NSString).lastPathComponent]
            if let config = loaded.metadata["config"] { meta["config"] = config }
            try Safetensors.write(tensors, metadata: meta, to: URL(fileURLWithPath: output))
            let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            print("wrote \(tensors.count) tensors (\(bytes / 1_000_000) MB) to \(output)")
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
    }
}
