import ArgumentParser
import COCO
import Detection
import Foundation
import Torch

/// `detr export`: a model-only `.safetensors` from any weight file (official .pth, training checkpoint).
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the model weights of a checkpoint as a compact .safetensors file.",
        discussion:
            """
            Optimizer state and other entries are dropped; --half stores floating tensors as float16 (loading \
            upcasts them).
            """
    )

    @Option(help: "Input weights (.pth or .safetensors, official or swift-detr training checkpoint).")
    var weights: String

    @Option(help: "Output .safetensors file.")
    var output: String

    @Flag(help: "Store floating-point tensors as float16 (half the size).")
    var half = false

    @Option(help: "A COCO annotation file whose category names are stored with the weights (for predict's labels).")
    var annotations: String?

    @Option(
        name: .customLong("map-prefix"),
        help:
            """
            FROM=TO: keep only keys starting with FROM, renamed to start with TO (repeatable), e.g. \
            backbone.=backbone.0.body. to reuse a Salience DETR backbone in Conditional DETR.
            """
    )
    var mapPrefix: [String] = []

    func validate() throws {
        for m in mapPrefix where m.split(separator: "=", omittingEmptySubsequences: false).count != 2 {
            throw ValidationError("--map-prefix must look like FROM=TO, not '\(m)'")
        }
    }

    func run() throws {
        do {
            let loaded = try WeightFile.load(URL(fileURLWithPath: weights))
            var tensors = DetectorFactory.modelTensors(of: loaded)
            if !mapPrefix.isEmpty {
                let maps = mapPrefix.map { $0.split(separator: "=", omittingEmptySubsequences: false).map(String.init) }
                var renamed = StateDict()
                for (k, v) in tensors {
                    if let m = maps.first(where: { k.hasPrefix($0[0]) }) { renamed[m[1] + k.dropFirst(m[0].count)] = v }
                }
                tensors = renamed
            }
            if half {
                for (k, v) in tensors where v.dtype == .float32 || v.dtype == .float64 { tensors[k] = v.to(.float16) }
            }
            var meta: [String: String] = ["source": (weights as NSString).lastPathComponent]
            if let config = loaded.metadata["config"] { meta["config"] = config }
            if let names = loaded.metadata["class_names"] ?? loaded.metadata["extra.class_names"] {
                meta["class_names"] = names
            }
            if let annotations {
                let coco = try COCODataset(contentsOf: URL(fileURLWithPath: annotations))
                let configured = loaded.metadata["config"].flatMap {
                    try? JSONDecoder().decode(ModelConfig.self, from: Data($0.utf8))
                }
                let count = configured?.numClasses ?? ((coco.categoryIds.max() ?? -1) + 1)
                var names = [String?](repeating: nil, count: count)
                for c in coco.categories where c.id >= 0 && c.id < count { names[c.id] = c.name }
                meta["class_names"] = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
            }
            try Safetensors.write(tensors, metadata: meta, to: URL(fileURLWithPath: output))
            let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            print("wrote \(tensors.count) tensors (\(bytes / 1_000_000) MB) to \(output)")
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
    }
}
