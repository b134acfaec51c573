import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// DESIGN.md §1 for Salience DETR: official keys, shapes and order; strict checkpoint loading with
/// the tied `enhance_mcsp` / `encoder_class_head` keys and `_classes_`.
@Suite struct SalienceDETRStateDictTests {
    @Test(.needsSpecs) func r50MatchesOfficialKeyList() throws {
        let official = try TestSupport.officialKeys("salience_detr_r50.tsv")
        let model = SalienceDETR(ParameterStore().root, config: ModelConfig.preset("salience-detr-r50")!)
        let ours = model.stateDict().map { ($0.key, $0.value.shape) }
        #expect(official.count == 1025)
        #expect(ours.count == official.count)
        let o = Dictionary(uniqueKeysWithValues: ours)
        for (k, s) in official {
            #expect(o[k] == s, "\(k): ours \(o[k].map { "\($0)" } ?? "missing"), official \(s)")
        }
        let firstDifference = Array(zip(ours.map(\.0), official.map(\.0))).firstIndex { $0.0 != $0.1 }
        #expect(firstDifference == nil, "state-dict order differs at \(firstDifference ?? -1)")
        // 56.08M parameters, the shared class head counted once (PyTorch's parameters()).
        #expect(abs(Double(model.parameterCount) / 1e6 - 56.08) < 0.01, "\(model.parameterCount) parameters")
    }

    @Test func fiveScalePresetBuilds() {
        let c = ModelConfig.preset("salience-detr-r50-5scale")!
        let keys = SalienceDETR(ParameterStore().root, config: c).stateDict()
        #expect(keys["neck.convs.0.0.weight"]?.shape == [256, 256, 1, 1])
        #expect(keys["neck.convs.3.0.weight"]?.shape == [256, 2048, 1, 1])
        #expect(keys["transformer.encoder.background_embedding.row_embed.weight"]?.shape == [500, 128])
    }

    @Test(.needsFixtures) func tinyCheckpointLoadsStrictlyWithTiedKeys() throws {
        let dir = try SalienceFixture.directory()
        let weights = try WeightFile.load(dir.appendingPathComponent("tiny.pth")).tensors
        #expect(weights["_classes_"] != nil)
        #expect(weights["transformer.encoder.enhance_mcsp.weight"] != nil)
        let model = SalienceDETR(ParameterStore().root, config: try SalienceFixture.config())
        let report = try model.load(stateDict: weights, strict: true)
        #expect(report.missingKeys.isEmpty && report.unexpectedKeys.isEmpty)
        let sd = model.stateDict()
        let head = try #require(sd["transformer.encoder_class_head.weight"])
        let alias = try #require(sd["transformer.encoder.enhance_mcsp.weight"])
        #expect(TestSupport.maxAbsDiff(head, weights["transformer.encoder_class_head.weight"]!) == 0)
        #expect(TestSupport.maxAbsDiff(alias, head) == 0)
        // One tensor under two keys: a change through one key is seen through the other.
        withNoGrad { _ = head.add_(1) }
        #expect(TestSupport.maxAbsDiff(model.stateDict()["transformer.encoder.enhance_mcsp.weight"]!, head) == 0)
        // Listed once among parameters, under the primary key.
        let names = model.namedParameters().map(\.key)
        #expect(names.contains("transformer.encoder_class_head.weight"))
        #expect(!names.contains("transformer.encoder.enhance_mcsp.weight"))
        // Every key of the checkpoint but `_classes_` is in the state dict, with equal values.
        for (k, v) in weights
        where k != "_classes_" && !k.hasPrefix("transformer.encoder_class_head")
            && !k.hasPrefix("transformer.encoder.enhance_mcsp")
        {
            guard let mine = sd[k] else {
                Issue.record("\(k) missing from stateDict()")
                continue
            }
            #expect(TestSupport.maxAbsDiff(mine.to(.float64), v.to(.float64)) == 0, "\(k)")
        }
        // A checkpoint with only the primary key of the tied head also loads strictly.
        var trimmed = weights
        trimmed["transformer.encoder.enhance_mcsp.weight"] = nil
        trimmed["transformer.encoder.enhance_mcsp.bias"] = nil
        #expect(throws: Never.self) {
            try SalienceDETR(ParameterStore().root, config: try SalienceFixture.config()).load(stateDict: trimmed)
        }
    }
}
