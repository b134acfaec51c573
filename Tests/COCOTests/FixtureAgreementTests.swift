import COCO
import Foundation
import TestSupport
import Testing

/// Agreement with pycocotools 2.0.11 on `shared/fixtures/coco_eval` (see its README, section C).
@Suite(.needsFixtures) struct FixtureAgreementTests {
    struct Setting: Sendable, CustomStringConvertible {
        let key: String
        let parameters: COCOEvalParameters
        var description: String { key }
    }

    static let settings = [
        Setting(key: "default", parameters: COCOEvalParameters()),
        Setting(key: "usecats0", parameters: COCOEvalParameters(useCategories: false)),
        Setting(key: "maxdets_1_5_20", parameters: COCOEvalParameters(maxDetections: [1, 5, 20])),
    ]

    @Test(arguments: settings)
    func statsArraysAndText(_ setting: Setting) throws {
        let dir = try ReferenceFiles.cocoEval()
        let dataset = try COCODataset(contentsOf: dir.appendingPathComponent("gt.json"))
        let results = try COCOResults(contentsOf: dir.appendingPathComponent("detections.json"), dataset: dataset)
        #expect(dataset.report.isClean && results.report.isClean)
        let evaluation = try COCOEvaluator.evaluate(
            dataset: dataset, detections: results.detections,
            parameters: setting.parameters)
        let summary = try evaluation.summary()

        let expected = try ReferenceFiles.decode(
            ReferenceFiles.Expected.self, dir.appendingPathComponent("expected.json"))
        let reference = try #require(expected.settings[setting.key])
        // Same summation order as np.mean: the stats are bit-identical, not just close.
        #expect(summary.stats == reference.stats, "stats \(summary.stats) vs \(reference.stats)")
        #expect(summary.text == reference.summaryText)

        let arrays = try ReferenceFiles.float64Tensors(dir.appendingPathComponent("expected_arrays.safetensors"))
        if let precision = arrays["\(setting.key).precision"] {
            #expect(
                precision.shape == [
                    evaluation.shape.T, evaluation.shape.R, evaluation.shape.K,
                    evaluation.shape.A, evaluation.shape.M,
                ])
            #expect(evaluation.precision == precision.values)
        }
        let recall = try #require(arrays["\(setting.key).recall"])
        #expect(recall.shape == [evaluation.shape.T, evaluation.shape.K, evaluation.shape.A, evaluation.shape.M])
        #expect(evaluation.recall == recall.values)
    }

    @Test func perCategoryMetrics() throws {
        let dir = try ReferenceFiles.cocoEval()
        let (evaluation, _, _) = try COCO.evaluate(
            annotations: dir.appendingPathComponent("gt.json"),
            results: dir.appendingPathComponent("detections.json"))
        let expected = try ReferenceFiles.decode(
            ReferenceFiles.Expected.self, dir.appendingPathComponent("expected.json"))
        let perCategory = try #require(expected.settings["default"]?.perCategory)
        #expect(evaluation.perCategory.count == perCategory.count)
        for metrics in evaluation.perCategory {
            let reference = try #require(perCategory["\(metrics.categoryId)"])
            #expect(metrics.name == reference.name)
            #expect(
                [metrics.ap, metrics.ap50, metrics.ap75, metrics.ar] == [
                    reference.ap, reference.ap50, reference.ap75, reference.ar,
                ],
                "category \(metrics.categoryId)")
        }
    }

    @Test func serialAndParallelAgreeBitForBit() throws {
        let dir = try ReferenceFiles.cocoEval()
        let dataset = try COCODataset(contentsOf: dir.appendingPathComponent("gt.json"))
        let results = try COCOResults(contentsOf: dir.appendingPathComponent("detections.json"), dataset: dataset)
        for parameters in [COCOEvalParameters(), COCOEvalParameters(useCategories: false)] {
            let serial = try COCOEvaluator.evaluate(
                dataset: dataset, detections: results.detections,
                parameters: parameters, parallel: false)
            let parallel = try COCOEvaluator.evaluate(
                dataset: dataset, detections: results.detections,
                parameters: parameters, parallel: true)
            #expect(serial.precision == parallel.precision)
            #expect(serial.recall == parallel.recall)
            #expect(serial.scores == parallel.scores)
        }
    }
}
