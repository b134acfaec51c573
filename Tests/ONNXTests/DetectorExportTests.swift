import Detection
import Foundation
import ONNX
import ONNXProto
import TestSupport
import Testing
import Torch

/// `DetectorExport` on the fixture models: the recorded function computes the official
/// detections, and the ONNX model decoded back from its bytes is well formed (every node input
/// defined before use, inputs and outputs with the export's shapes and dtypes, initializers named
/// and shaped as the checkpoint's state-dict keys). Running the file in ONNX Runtime and OpenVINO
/// is `Benchmarks/onnx/check.sh` (Python).
@Suite(.needsFixtures, .serialized) struct DetectorExportTests {
    /// The fixture models that export (each a folder with tiny.config.json, tiny.pth and
    /// tiny_eval.safetensors).
    static let models = ["conditional_detr", "salience_detr"]

    /// Whether the official outputs of the fixture batch are fixed by the model alone. Salience
    /// DETR's padded tokens share one score; `tiny.json` → `eval.ties` lists where the official
    /// result depends on the order libtorch's kernel leaves such ties in (a tie group across a
    /// layer's or the write-back's boundary, or padded tokens among the decoder's queries).
    /// A recording breaks ties by the lower index, so only a tie-independent batch can be held
    /// to the official outputs.
    static func officialIsTieIndependent(_ dir: URL) throws -> Bool {
        let data = try Data(contentsOf: dir.appendingPathComponent("tiny.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        guard let ties = (json["eval"] as? [String: Any])?["ties"] as? [String: Any] else { return true }
        let straddling = ties["ties_straddling_prefix_or_layer_boundaries"] as? [Any] ?? []
        let padded = ties["enc_topk_selected_padding_tokens_per_image"] as? [Int] ?? []
        return straddling.isEmpty && padded.allSatisfy { $0 == 0 }
    }

    @Test(arguments: models) func exportedModelIsWellFormed(_ folder: String) throws {
        let dir = try TestSupport.fixtures(folder)
        let eval = try TestSupport.fixtureTensors("\(folder)/tiny_eval.safetensors")
        let batch = try #require(eval["pre.batch"])
        let (n, h, w) = (batch.size(0), batch.size(2), batch.size(3))
        let predictor = try Predictor.load(
            config: dir.appendingPathComponent("tiny.config.json").path,
            weights: dir.appendingPathComponent("tiny.pth").path)
        let k = predictor.postProcess.numSelect

        // The recorded function, run as it is recorded, gives the official detections (the
        // tolerances of Benchmarks/onnx/check.sh: scores 1e-4, boxes 0.05 px).
        let (trace, detected) = DetectorExport.record(
            predictor, images: batch, imageSizes: try #require(eval["pre.image_sizes"]),
            originalSizes: try #require(eval["pre.orig_sizes"]))
        #expect(trace.problems.isEmpty, "\(trace.problems.prefix(3))")
        let comparable = try Self.officialIsTieIndependent(dir)
        if !comparable {
            print("note: \(folder): the official outputs of this fixture batch depend on tie order; not compared")
        }
        for i in 0..<n where comparable {
            TestSupport.expectClose(
                detected.scores[i], try #require(eval["post.\(i).scores"]), atol: 1e-4, rtol: 0, "post.\(i).scores")
            TestSupport.expectClose(
                detected.boxes[i], try #require(eval["post.\(i).boxes"]), atol: 0.05, rtol: 0, "post.\(i).boxes")
            #expect(detected.labels[i].ints == eval["post.\(i).labels"]?.ints)
        }

        let options = DetectorExportOptions(height: h, width: w, batch: n, opset: 17)
        let written = try DetectorExport.model(predictor, options: options, subject: folder)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(folder)-\(getpid()).onnx")
        defer { try? FileManager.default.removeItem(at: file) }
        try ONNXModelFile.write(written, to: file)
        let model = try ONNXModelFile.read(file)
        #expect(model.opsetImport.map { $0.version } == [17])
        let g = model.graph

        func signature(_ v: Onnx_ValueInfoProto) -> String {
            "\(v.name) \(ONNXTensor.typeName(v.type.tensorType.elemType)) \(v.type.tensorType.shape.dim.map { $0.dimValue })"
        }
        #expect(
            g.input.map(signature) == [
                "images float32 [\(n), 3, \(h), \(w)]", "image_sizes int64 [\(n), 2]", "orig_sizes int64 [\(n), 2]",
            ])
        #expect(
            g.output.map(signature) == [
                "scores float32 [\(n), \(k)]", "labels int64 [\(n), \(k)]", "boxes float32 [\(n), \(k), 4]",
            ])

        var defined = Set(g.input.map { $0.name } + g.initializer.map { $0.name } + [""])
        for node in g.node {
            for input in node.input {
                #expect(defined.contains(input), "\(node.name) (\(node.opType)) reads \(input) before it is made")
            }
            defined.formUnion(node.output)
        }
        for output in g.output { #expect(defined.contains(output.name)) }

        let keys = try WeightFile.load(dir.appendingPathComponent("tiny.pth")).tensors
        #expect(!g.initializer.isEmpty)
        for t in g.initializer {
            let key = try #require(keys[t.name], "initializer \(t.name) is no state-dict key")
            #expect(t.dims.map(Int.init) == key.shape, "\(t.name)")
            #expect(t.rawData.count == key.count * 4, "\(t.name) holds float32 values")
        }
    }

    /// A forward that reads a value computed from the inputs back to the host cannot be exported:
    /// the recording says so instead of freezing the value into the graph.
    @Test func hostReadsOfInputValuesAreReported() throws {
        let x = Tensor.zeros([2, 3])
        let trace = OperationTrace()
        trace.addInput(x, name: "x")
        let y = trace.record { () -> Tensor in
            let s = (x + 1).sum()
            return s.item() > 0 ? x * 2 : x * 3
        }
        #expect(trace.problems.count == 1)
        #expect(throws: ExportError.self) {
            try ONNXGraph.model(trace: trace, outputs: [("y", y)], opset: 17, graphName: "g", subject: "test")
        }
    }

    /// A tensor made before the recording that is neither an input nor a weight is reported.
    @Test func undeclaredTensorsAreReported() throws {
        let x = Tensor.zeros([2])
        let hidden = Tensor.ones([2])
        let trace = OperationTrace()
        trace.addInput(x, name: "x")
        _ = trace.record { x + hidden }
        #expect(trace.problems.count == 1)
    }
}

