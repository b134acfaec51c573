import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch
import Vision

/// Stage-by-stage parity with the official Conditional DETR (tiny config, fixture weights).
/// Tolerance (fixtures README §D): max|a-b| <= 1e-4 * max(1, max|ref|).
@Suite(.serialized, .needsFixtures) struct ConditionalDETRParityTests {
    static func close(_ a: Tensor, _ ref: Tensor?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let ref else {
            Issue.record("fixture lacks \(what)", sourceLocation: sourceLocation)
            return
        }
        let scale = Swift.max(1, ref.to(.float64).abs().max().item())
        if ProcessInfo.processInfo.environment["CONDITIONAL_REPORT"] == "1" {
            print("CONDITIONAL_REPORT \(what): max|a-b| = \(TestSupport.maxAbsDiff(a, ref))")
        }
        TestSupport.expectClose(a, ref, atol: 1e-4 * scale, rtol: 0, what, sourceLocation: sourceLocation)
    }

    static func load(sourceLocation: SourceLocation = #_sourceLocation) throws -> (ConditionalDETR, StateDict) {
        let dir = try TestSupport.fixtures("conditional_detr", sourceLocation: sourceLocation)
        let config = try ModelConfig.load(contentsOf: dir.appendingPathComponent("tiny.config.json"))
        let model = ConditionalDETR(ParameterStore().root, config: config)
        try model.load(stateDict: WeightFile.load(dir.appendingPathComponent("tiny.pth")).tensors)
        let ref = try Safetensors.read(contentsOf: dir.appendingPathComponent("tiny_eval.safetensors")).tensors
        return (model, ref)
    }

    @Test func stagesMatchFixture() throws {
        let (model, ref) = try Self.load()
        let (out, trace) = withNoGrad {
            model.forward(images: ref["pre.batch"]!, mask: ref["pre.mask"]!, training: false)
        }
        Self.close(trace.c5, ref["backbone.c5"], "backbone.c5")
        #expect(trace.mask.bools == ref["backbone.mask"]!.bools)
        Self.close(trace.pos, ref["pos"], "pos")
        Self.close(trace.projected, ref["input_proj"], "input_proj")
        Self.close(trace.memory, ref["enc.memory"], "enc.memory")
        Self.close(trace.hs, ref["dec.hs"], "dec.hs")
        Self.close(trace.reference, ref["dec.reference_points"], "dec.reference_points")
        Self.close(out.final.logits, ref["out.pred_logits"], "out.pred_logits")
        Self.close(out.final.boxes, ref["out.pred_boxes"], "out.pred_boxes")
        for (i, aux) in out.auxiliary.enumerated() {
            Self.close(aux.logits, ref["out.aux.\(i).pred_logits"], "aux \(i) logits")
            Self.close(aux.boxes, ref["out.aux.\(i).pred_boxes"], "aux \(i) boxes")
        }
        #expect(out.auxiliary.count == (model.config.auxLoss ? model.config.numDecoderLayers - 1 : 0))
    }
}
