import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// DESIGN.md §1: models built from their config alone register exactly the official keys.
@Suite struct StateDictKeyTests {
    /// Builds on the meta-free CPU store; parameters are small enough at R50 to allocate.
    static func keys(of config: ModelConfig) -> [(String, [Int])] {
        let model = ConditionalDETR(ParameterStore().root, config: config)
        return model.stateDict().map { ($0.key, $0.value.shape) }
    }

    @Test(.needsSpecs) func conditionalDetrR50MatchesOfficialKeyList() throws {
        let official = try TestSupport.officialKeys("conditional_detr_r50.tsv")
        let ours = Self.keys(of: ModelConfig.preset("conditional-detr-r50")!)
        #expect(official.count == 564)
        #expect(ours.count == official.count)
        let o = Dictionary(uniqueKeysWithValues: ours)
        for (k, s) in official {
            #expect(o[k] == s, "\(k): ours \(o[k].map { "\($0)" } ?? "missing"), official \(s)")
        }
        let firstDifference = Array(zip(ours.map(\.0), official.map(\.0))).firstIndex { $0.0 != $0.1 }
        #expect(firstDifference == nil, "state-dict order differs at \(firstDifference ?? -1)")
    }

    @Test func conditionalDetrVariantsKeyCounts() {
        #expect(Self.keys(of: ModelConfig.preset("conditional-detr-r101")!).count == 819)
        let dc5 = Self.keys(of: ModelConfig.preset("conditional-detr-r50-dc5")!)
        let r50 = Self.keys(of: ModelConfig.preset("conditional-detr-r50")!)
        #expect(dc5.map(\.0) == r50.map(\.0))
        #expect(dc5.map(\.1) == r50.map(\.1))
    }
}
