import Foundation
import Testing
import TestSupport
import Torch

/// The tiny checkpoints of `../shared/fixtures` load with every tensor's name, dtype, shape
/// and SHA-256 as recorded in `tiny.weights.json` beside them.
@Suite struct WeightFileSharedFixtureTests {
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

    @Test(arguments: [
        ("salience_detr", nil, [String]()),
        ("conditional_detr", "model", ["args", "epoch"]),
    ] as [(String, String?, [String])])
    func sharedCheckpointMatchesRecordedWeights(_ model: String, _ stateDictKey: String?, _ others: [String]) throws {
        guard TestSupport.fixturesAvailable(), let fixtures = TestSupport.sharedFixtures else { return }
        let dir = fixtures.appendingPathComponent(model)
        let expected = try JSONDecoder().decode(WeightsJSON.self,
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

    @Test func conditionalCheckpointArguments() throws {
        guard TestSupport.fixturesAvailable(), let fixtures = TestSupport.sharedFixtures else { return }
        let loaded = try WeightFile.load(fixtures.appendingPathComponent("conditional_detr/tiny.pth"))
        let args = try #require(loaded.otherEntries.first { $0.key == "args" })
        #expect(args.summary.hasPrefix("argparse.Namespace with "))
        #expect(args.value["backbone"]?.string == "resnet50_tiny1111")
        #expect(args.value["lr"]?.double == 0.0001)
        #expect(loaded.otherEntries.first { $0.key == "epoch" }?.summary == "int 3")
    }
}
