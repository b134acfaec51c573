import Detection
import Diagnostics
import Foundation
import NN
import ONNXProto
import Torch

/// What an export fixes: the input size and batch, the operator set, the outputs.
public struct DetectorExportOptions: Sendable {
    /// Height and width of the `images` input (images are padded to it).
    public var height: Int
    public var width: Int
    /// Images per inference.
    public var batch: Int
    /// The ONNX operator set (16 or later: `GridSample` is needed).
    public var opset: Int
    /// Also output the decoder's raw logits and normalised boxes.
    public var raw: Bool
    /// Float16 weights and activations, with normalisation, box heads, selections and geometry
    /// in float32 (`GraphBuilder+Half.swift`); inputs and outputs keep their types.
    public var half: Bool

    public init(height: Int, width: Int, batch: Int = 1, opset: Int = 17, raw: Bool = false, half: Bool = false) {
        self.half = half
        self.height = height
        self.width = width
        self.batch = batch
        self.opset = opset
        self.raw = raw
    }
}

/// Why a model cannot be exported.
public struct ExportError: SubjectError {
    public var subject: String?
    public var problems: [String]

    public init(subject: String, problems: [String]) {
        self.subject = subject
        self.problems = problems
    }

    public var problem: String {
        "cannot be exported to ONNX: " + problems.prefix(5).joined(separator: "; ")
            + (problems.count > 5 ? "; and \(problems.count - 5) more" : "")
    }
}

/// A detector as an ONNX model: the graph is the recording of `Predictor.detect` — the forward
/// and post-processing `detr predict` runs — on inputs of the export size.
///
/// Inputs: `images` float32 [N, 3, H, W] (normalised, zero-padded bottom/right to H x W),
/// `image_sizes` int64 [N, 2] (the valid (h, w) of each resized image, from which the graph makes
/// the padding mask) and `orig_sizes` int64 [N, 2]. Outputs: `scores` [N, K], `labels` [N, K]
/// int64 and `boxes` [N, K, 4] (xyxy in original pixels), K the post-processing's top-k; with
/// `raw`, also `pred_logits` [N, Q, C] and `pred_boxes` [N, Q, 4] (cxcywh, normalised).
public enum DetectorExport {
    public static let inputNames = ["images", "image_sizes", "orig_sizes"]

    /// Records `predictor` and builds its ONNX model (initializers named by state-dict keys).
    /// - Parameter subject: names the model in errors (its config or weights file)
    /// - Throws: `ExportError` listing what the recording or the ONNX operators cannot express
    public static func model(
        _ predictor: Predictor, options o: DetectorExportOptions, subject: String
    ) throws -> Onnx_ModelProto {
        guard o.opset >= 16 else {
            throw ExportError(subject: subject, problems: ["opset \(o.opset): GridSample needs 16 or later"])
        }
        let device = predictor.device
        let images = Tensor.zeros([o.batch, 3, o.height, o.width], device: device)
        let sizes = Tensor(Array(repeating: [o.height, o.width], count: o.batch).flatMap { $0 }, shape: [o.batch, 2])
            .to(device)
        let (trace, result) = record(predictor, images: images, imageSizes: sizes, originalSizes: sizes.clone())
        var outputs: [(String, Tensor)] = [("scores", result.scores), ("labels", result.labels), ("boxes", result.boxes)]
        if o.raw {
            outputs += [("pred_logits", result.output.final.logits), ("pred_boxes", result.output.final.boxes)]
        }
        return try ONNXGraph.model(
            trace: trace, outputs: outputs, opset: o.opset, graphName: "swift-detr",
            subject: subject, half: o.half)
    }
}

extension DetectorExport {
    /// Runs `predictor.detect` on the given inputs while recording it: what the exported graph
    /// computes on these inputs, and the recording (inputs under `inputNames`, parameters and
    /// buffers as initializers under their state-dict keys).
    public static func record(
        _ predictor: Predictor, images: Tensor, imageSizes: Tensor, originalSizes: Tensor
    ) -> (trace: OperationTrace, detections: TensorDetections) {
        let trace = OperationTrace()
        for (name, tensor) in zip(inputNames, [images, imageSizes, originalSizes]) {
            trace.addInput(tensor, name: name)
        }
        trace.addInitializers(of: predictor.detector)
        let result = trace.record {
            predictor.detect(images: images, imageSizes: imageSizes, originalSizes: originalSizes)
        }
        return (trace, result)
    }
}

/// An ONNX model from a recording.
public enum ONNXGraph {
    /// The model computing `outputs` (tensors of the recording) from the recording's inputs;
    /// `half`: in float16 where `GraphBuilder+Half.swift` says (inputs and outputs keep their types).
    /// - Throws: `ExportError` with the recording's and the lowering's problems
    public static func model(
        trace: OperationTrace, outputs: [(name: String, tensor: Tensor)], opset: Int, graphName: String,
        subject: String, half: Bool = false
    ) throws -> Onnx_ModelProto {
        var problems = trace.problems
        let ids = outputs.map { trace.value(of: $0.tensor) }
        for (o, id) in zip(outputs, ids) where id == nil { problems.append("output \(o.name) was not recorded") }
        guard problems.isEmpty else { throw ExportError(subject: subject, problems: problems) }
        let builder = GraphBuilder(trace: trace, opset: opset)
        builder.half = half
        builder.lower(outputs: ids.map { $0! })
        guard builder.problems.isEmpty else { throw ExportError(subject: subject, problems: builder.problems) }
        let results = ids.map { builder.recordedTypeName($0!) }

        var graph = Onnx_GraphProto()
        graph.name = graphName
        graph.node = builder.nodes
        for ((o, id), result) in zip(zip(outputs, ids), results) {
            var node = Onnx_NodeProto()
            node.opType = "Identity"
            node.name = "output_\(o.name)"
            node.input = [result]
            node.output = [o.name]
            graph.node.append(node)
            graph.output.append(valueInfo(o.name, trace.values[id!]))
        }
        for (name, id) in trace.inputs {
            graph.input.append(valueInfo(name, trace.values[id]))
        }
        graph.initializer = builder.usedInitializers().map { ONNXTensor.make($0.tensor, name: $0.name) }

        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "swift-detr"
        model.graph = graph
        var opsetImport = Onnx_OperatorSetIdProto()
        opsetImport.domain = ""
        opsetImport.version = Int64(opset)
        model.opsetImport = [opsetImport]
        return model
    }

    static func valueInfo(_ name: String, _ value: OperationTrace.Value) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = ONNXTensor.dataType(value.dtype)
        var shape = Onnx_TensorShapeProto()
        shape.dim = value.shape.map {
            var d = Onnx_TensorShapeProto.Dimension()
            d.dimValue = Int64($0)
            return d
        }
        tensorType.shape = shape
        info.type.tensorType = tensorType
        return info
    }
}
