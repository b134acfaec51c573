import ArgumentParser
import COCO
import Detection
import Foundation
import NN
import ONNX
import Torch

/// `detr export`: a model-only `.safetensors` from any weight file (official .pth, training
/// checkpoint), or the whole detector as an ONNX model.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the model weights of a checkpoint as a compact .safetensors file, or the detector as ONNX.",
        discussion:
            """
            safetensors (default): optimizer state and other entries are dropped; --half stores floating tensors \
            as float16 (loading upcasts them).

            onnx (--format onnx --config C): the forward and post-processing that `detr predict` runs, recorded \
            at one input size (--size, default: the largest image the evaluation resize makes, padded as the \
            architecture pads) and batch. Inputs: images float32 [N, 3, H, W] (resized as the model's evaluation \
            resize does, normalised with ImageNet's mean and std, zero-padded bottom/right to H x W), image_sizes \
            int64 [N, 2] (each resized image's height and width before padding) and orig_sizes int64 [N, 2]. \
            Outputs: scores [N, K], labels [N, K] int64, boxes [N, K, 4] (xyxy in original pixels), K the \
            config's num_select; --raw adds pred_logits and pred_boxes. Weights are initializers named by their \
            state-dict keys; a model over 1.8 GB keeps them in FILE.data beside it.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case safetensors, onnx
    }

    @Option(help: "safetensors or onnx.")
    var format: Format = .safetensors

    @Option(help: "onnx: a preset or JSON config file (the checkpoint's own config when it stores one).")
    var config: String?

    @Option(help: "onnx: the input size HxW (default: 800x1333, padded to the architecture's size divisor).")
    var size: String?

    @Option(help: "onnx: images per inference.")
    var batch = 1

    @Option(help: "onnx: the ONNX operator set (16-20).")
    var opset = 17

    @Flag(help: "onnx: also output the decoder's logits (pred_logits) and normalised cxcywh boxes (pred_boxes).")
    var raw = false

    @Option(help: "Input weights (.pth or .safetensors, official or swift-detr training checkpoint).")
    var weights: String

    @Option(help: "Output .safetensors file.")
    var output: String

    @Flag(
        help: """
            Float16: safetensors stores floating-point tensors as float16 (half the size); onnx computes in \
            float16 with normalisation, box heads, selections and geometry in float32 (inputs and outputs \
            stay float32).
            """)
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
        if format == .onnx {
            if !(16...20).contains(opset) { throw ValidationError("--opset must be in 16...20, got \(opset)") }
            if !(1...64).contains(batch) { throw ValidationError("--batch must be in 1...64, got \(batch)") }
            if let size, Self.parseSize(size) == nil {
                throw ValidationError("--size must look like HEIGHTxWIDTH with sides in 32...4096, got '\(size)'")
            }
            if !mapPrefix.isEmpty || annotations != nil {
                throw ValidationError("--map-prefix and --annotations are options of --format safetensors")
            }
        }
        for m in mapPrefix where m.split(separator: "=", omittingEmptySubsequences: false).count != 2 {
            throw ValidationError("--map-prefix must look like FROM=TO, not '\(m)'")
        }
    }

    static func parseSize(_ text: String) -> (height: Int, width: Int)? {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ (32...4096).contains($0) }) else { return nil }
        return (parts[0], parts[1])
    }

    func run() throws {
        if format == .onnx { return try exportONNX() }
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

extension Export {
    func exportONNX() throws {
        do {
            let (predictor, subject) = try loadPredictor()
            let divisor = predictor.transform.sizeDivisor
            let (h, w) = size.flatMap(Self.parseSize) ?? (800, 1333)
            let options = DetectorExportOptions(
                height: h.roundedUp(toMultipleOf: divisor), width: w.roundedUp(toMultipleOf: divisor), batch: batch,
                opset: opset, raw: raw, half: half)
            let model = try DetectorExport.model(predictor, options: options, subject: subject)
            try ONNXModelFile.write(model, to: URL(fileURLWithPath: output))
            let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            print(
                "wrote \(output) (\(bytes / 1_000_000) MB): \(model.graph.node.count) nodes, input \(options.batch)x3x"
                    + "\(options.height)x\(options.width), opset \(opset)")
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
    }

    /// The predictor of --config, or of the config a swift-detr checkpoint stores (official
    /// checkpoints store none), with the weights loaded; and the name errors use for it.
    func loadPredictor() throws -> (Predictor, String) {
        if let config { return (try Predictor.load(config: config, weights: weights), config) }
        let url = URL(fileURLWithPath: weights)
        guard let stored = try WeightFile.load(url).metadata["config"] else {
            throw ValidationError("\(weights) stores no config: give --config (a preset or a JSON config file)")
        }
        let config: ModelConfig
        do {
            config = try JSONDecoder().decode(ModelConfig.self, from: Data(stored.utf8))
        } catch {
            throw FileError(file: weights, problem: "its stored config cannot be read (\(error))")
        }
        let detector = try DetectorFactory.make(config: config, store: ParameterStore(dtype: .float32))
        let loaded = try DetectorFactory.loadWeights(url, into: detector)
        let names = COCOClassNames.names(from: loaded, numClasses: config.numClasses)
        return (Predictor(detector: detector, names: names), weights)
    }
}
