import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch
import Vision

/// Shared helpers of the Salience DETR tests.
enum SalienceFixture {
    /// `salience_detr` of the shared fixtures (throws, with a recorded failure, when they are absent).
    static func directory(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        try TestSupport.fixtures("salience_detr", sourceLocation: sourceLocation)
    }

    static func config(sourceLocation: SourceLocation = #_sourceLocation) throws -> ModelConfig {
        try ModelConfig.load(
            contentsOf: directory(sourceLocation: sourceLocation).appendingPathComponent("tiny.config.json"))
    }

    /// The tiny model with the fixture weights and the eval reference tensors.
    static func load(sourceLocation: SourceLocation = #_sourceLocation) throws -> (SalienceDETR, StateDict) {
        let dir = try directory(sourceLocation: sourceLocation)
        let model = SalienceDETR(ParameterStore().root, config: try config())
        try model.load(stateDict: WeightFile.load(dir.appendingPathComponent("tiny.pth")).tensors)
        let ref = try Safetensors.read(contentsOf: dir.appendingPathComponent("tiny_eval.safetensors")).tensors
        return (model, ref)
    }

    /// The training reference tensors (`tiny_train.safetensors`).
    static func train(sourceLocation: SourceLocation = #_sourceLocation) throws -> StateDict {
        try Safetensors.read(
            contentsOf: directory(sourceLocation: sourceLocation)
                .appendingPathComponent("tiny_train.safetensors")
        ).tensors
    }

    /// `tiny.json`: the generator's record of the config, derived numbers, seeds and loss names.
    static func info() throws -> [String: Any] {
        try TestSupport.fixtureJSON("salience_detr/tiny.json")
    }

    /// The training targets `target.<i>.*` of `ref`, one per image of the eval batch.
    static func targets(_ ref: StateDict, images: Int) throws -> [DetectionTarget] {
        try (0..<images).map {
            DetectionTarget(
                labels: try #require(ref["target.\($0).labels"]),
                boxes: try #require(ref["target.\($0).boxes_cxcywh_norm"]))
        }
    }

    /// Prints observed errors when SALIENCE_REPORT is set (for the parity report).
    static var reporting: Bool { ProcessInfo.processInfo.environment["SALIENCE_REPORT"] != nil }

    /// Checks max|a-b| <= 1e-4 · max(1, max|ref|) (fixtures README §D); +inf must sit at the same
    /// places in both. Returns the normalised error.
    @discardableResult
    static func close(
        _ a: Tensor, _ ref: Tensor?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Double {
        guard let ref else {
            Issue.record("fixture lacks \(what)", sourceLocation: sourceLocation)
            return .infinity
        }
        guard a.shape == ref.shape else {
            Issue.record("\(what): shape \(a.shape) != reference \(ref.shape)", sourceLocation: sourceLocation)
            return .infinity
        }
        let a64 = a.to(.float64), r64 = ref.to(.float64)
        let aInf = a64.isInf(), rInf = r64.isInf()
        if a64.count > 0 && !(aInf .== rInf).all().bools[0] {
            Issue.record("\(what): infinities differ", sourceLocation: sourceLocation)
        }
        let af = a64.maskedFill(aInf, 0.0), rf = r64.maskedFill(rInf, 0.0)
        let scale = Swift.max(1, ref.count == 0 ? 0 : rf.abs().max().item())
        let diff = TestSupport.maxAbsDiff(af, rf)
        if diff > 1e-4 * scale {
            Issue.record("\(what): max|a-b| = \(diff) exceeds 1e-4 * \(scale)", sourceLocation: sourceLocation)
        }
        if reporting { print("salience parity \(what): max|a-b| = \(diff), normalised \(diff / scale)") }
        return diff / scale
    }

    /// Compares detections with `post.<i>.*` as a multiset (label equal, score within 1e-6, box
    /// within 1e-2 px; README quirk 12).
    static func expectDetectionsMatch(
        _ dets: [[DetectedObject]], _ t: StateDict, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(dets.count == (try TestSupport.imageCount(t)), "\(what): image count", sourceLocation: sourceLocation)
        for i in 0..<dets.count {
            let worst = TestSupport.expectSameDetections(
                DetectionList(dets[i]), try DetectionList(fixture: t, image: i), "\(what) image \(i)",
                sourceLocation: sourceLocation)
            if reporting {
                print("salience parity \(what) image \(i): max |Δscore| = \(worst.score), max |Δbox| = \(worst.box) px")
            }
        }
    }
}
