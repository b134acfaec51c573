import Foundation
import TestSupport
import Testing
import Torch

/// The tiny checkpoints of `../shared/fixtures` load with every tensor's name, dtype, shape
/// and SHA-256 as recorded in `tiny.weights.json` beside them.
@Suite(.needsFixtures) struct WeightFileSharedFixtureTests {
    struct WeightsJSON: Decodable {
        struct Entry: Decodable {
            var name: String
            var dtype: String
            var shape: [Int]
            var sha256: String
        }
        var count: Int
        var tensors: [Entry]
    }

    @Test(
        arguments: [
            ("salience_detr", nil, [String]()),
            ("conditional_detr", "model", ["args", "epoch"]),
        ] as [(String, String?, [String])])
    func sharedCheckpointMatchesRecordedWeights(_ model: String, _ stateDictKey: String?, _ others: [String]) throws {
        let dir = try TestSupport.fixtures(model)
        let expected = try JSONDecoder().decode(
            WeightsJSON.self,
            from: Data(contentsOf: dir.appendingPathComponent("tiny.weights.json")))
        let loaded = try WeightFile.load(dir.appendingPathComponent("tiny.pth"))
        #expect(loaded.format == .pytorchZip)
        #expect(loaded.stateDictKey == stateDictKey)
        #expect(loaded.otherEntries.map(\.key) == others)
        #expect(loaded.tensors.count == expected.count)
        #expect(loaded.tensors.keys == expected.tensors.map(\.name))
        var mismatches: [String] = []
        for e in expected.tensors {
            guard let t = loaded.tensors[e.name] else { mismatches.append("\(e.name) missing"); continue }
            if t.dtype.description != e.dtype || t.shape != e.shape || WeightFixtures.sha256(t) != e.sha256 {
                mismatches.append("\(e.name): \(t.dtype) \(t.shape) \(WeightFixtures.sha256(t))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    /// The checkpoint's `args` and `epoch` entries hold what `tiny.json` records for them.
    @Test func conditionalCheckpointArguments() throws {
        let loaded = try WeightFile.load(TestSupport.fixtures("conditional_detr/tiny.pth"))
        let info = try TestSupport.fixtureJSON("conditional_detr/tiny.json")
        let recorded = try #require(info["args"] as? [String: Any])
        let epoch = try #require((info["reload_check"] as? [String: Any])?["epoch"] as? Int)
        let args = try #require(loaded.otherEntries.first { $0.key == "args" })
        #expect(args.summary.hasPrefix("argparse.Namespace with "))
        #expect(args.value["backbone"]?.string == (try #require(recorded["backbone"] as? String)))
        #expect(args.value["lr"]?.double == (try #require(recorded["lr"] as? Double)))
        #expect(loaded.otherEntries.first { $0.key == "epoch" }?.summary == "int \(epoch)")
    }
}
