import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch
import Vision

/// Salience DETR with Swin, ConvNeXt and FocalNet backbones against the official code: the tiny
/// fixture models (`salience_detr_{swin,convnext,focalnet}`) load strictly from their `.pth`, and
/// backbone, neck and detections match at max|a-b| <= 1e-4 · max(1, max|ref|) (boxes and scores
/// as in the R50 parity tests); the full-size presets register exactly the official key lists.
@Suite struct SalienceBackboneParityTests {
    static let kinds = ["swin", "convnext", "focalnet"]

    /// The tiny model of `salience_detr_<kind>` with its weights, and its eval reference tensors.
    static func load(_ kind: String) throws -> (SalienceDETR, StateDict) {
        let dir = try TestSupport.fixtures("salience_detr_\(kind)")
        let config = try ModelConfig.load(contentsOf: dir.appendingPathComponent("tiny.config.json"))
        let model = SalienceDETR(ParameterStore().root, config: config)
        try model.load(stateDict: WeightFile.load(dir.appendingPathComponent("tiny.pth")).tensors, strict: true)
        return (model, try TestSupport.fixtureTensors("salience_detr_\(kind)/tiny_eval.safetensors"))
    }

    /// `pre.batch` through the backbone (every image) and the neck (the fixtures keep image 0).
    @Test(.needsFixtures, arguments: kinds)
    func backboneAndNeckMatch(kind: String) throws {
        let (model, ref) = try Self.load(kind)
        let batch = try #require(ref["pre.batch"]), mask = try #require(ref["pre.mask"])
        let (_, trace) = withNoGrad { model.forward(images: batch, mask: mask, training: false) }
        let levels = ref.keys.filter { $0.hasPrefix("backbone.out.") }.count
        #expect(trace.backbone.count == levels, "\(kind): backbone levels")
        for (l, out) in trace.backbone.enumerated() {
            SalienceFixture.close(out.contiguous(), ref["backbone.out.\(l)"], "\(kind) backbone.out.\(l)")
        }
        for (l, out) in trace.neck.enumerated() {
            SalienceFixture.close(out.slice(dim: 0, end: 1).contiguous(), ref["neck.out.\(l)"], "\(kind) neck.out.\(l)")
        }
    }

    /// Raw uint8 images -> eval transform -> model -> post-processing, compared with `pre.*` and
    /// `post.*` (detections as a multiset, near-tied scores may swap ranks).
    @Test(.needsFixtures, arguments: kinds)
    func rawImagesToDetections(kind: String) throws {
        let (model, ref) = try Self.load(kind)
        let images = try (0..<TestSupport.imageCount(ref)).map {
            try Image(tensor: try #require(ref["in.image.\($0)"]))
        }
        let recipe = model.modelConfig.recipe
        let batch = recipe.evalTransform.batch(images)
        SalienceFixture.close(batch.images, ref["pre.batch"], "\(kind) pre.batch")
        #expect(batch.mask.bools == (try #require(ref["pre.mask"])).bools, "\(kind) pre.mask")
        let out = withNoGrad { model(batch) }
        let dets = recipe.postProcess.detections(
            logits: out.final.logits, boxes: out.final.boxes, originalSizes: batch.originalSizes)
        try SalienceFixture.expectDetectionsMatch(dets, ref, "\(kind) post")
    }

    /// The full-size presets register the official keys with their shapes, in order.
    @Test(.needsSpecs, arguments: zip(kinds, ["swin_l", "convnext_l", "focalnet_l"]))
    func presetMatchesOfficialKeyList(kind: String, file: String) throws {
        let official = try TestSupport.officialKeys("salience_detr_\(file).tsv")
        let preset = try #require(ModelConfig.preset("salience-detr-\(kind)-l"))
        let ours = SalienceDETR(ParameterStore().root, config: preset).stateDict().map { ($0.key, $0.value.shape) }
        #expect(ours.count == official.count, "\(kind): \(ours.count) entries, official \(official.count)")
        let o = Dictionary(uniqueKeysWithValues: ours)
        let missing = official.filter { o[$0.0] == nil }.map(\.0)
        #expect(missing.isEmpty, "\(kind): missing \(missing.prefix(5))")
        for (k, s) in official where o[k] != nil {
            #expect(o[k] == s, "\(kind) \(k): ours \(o[k]!), official \(s)")
        }
        let firstDifference = Array(zip(ours.map(\.0), official.map(\.0))).firstIndex { $0.0 != $0.1 }
        #expect(firstDifference == nil, "\(kind): state-dict order differs at \(firstDifference ?? -1)")
    }
}
