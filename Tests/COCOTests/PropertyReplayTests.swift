import COCO
import Foundation
import TestSupport
import Testing

/// Replays `Tests/Fixtures/coco/property_cases.json`: 240 random evaluation cases with
/// pycocotools' answers, made by `generate_property_cases.py` (see there for what they cover).
@Suite struct PropertyReplayTests {
    struct File: Decodable { let cases: [Case] }
    struct Case: Decodable {
        let name: String
        let params: Params
        let gt: String
        let dets: String
        let expected: Expected
    }
    struct Params: Decodable {
        let useCats: Int?, maxDets: [Int]?, iouThrs: [Double]?, imgIds: [Int]?, catIds: [Int]?
    }
    struct Expected: Decodable {
        let stats: [Double], shape: [Int], recall: [Double]
        let precision_mean_r: [Double], precision_weighted_r: [Double], precision: [Double]?
    }

    @Test func allCasesAgreeWithPycocotools() throws {
        let file = try ReferenceFiles.decode(File.self, TestSupport.localFixture("coco/property_cases.json"))
        #expect(file.cases.count >= 200)
        var worst = 0.0
        for testCase in file.cases {
            let name = testCase.name, params = testCase.params, expected = testCase.expected
            let dataset = try COCODataset(jsonData: Data(testCase.gt.utf8), name: "\(name).gt")
            let results = try COCOResults(jsonData: Data(testCase.dets.utf8), name: "\(name).dets", dataset: dataset)
            var parameters = COCOEvalParameters()
            if let useCats = params.useCats { parameters.useCategories = useCats != 0 }
            if let maxDets = params.maxDets { parameters.maxDetections = maxDets }
            if let iou = params.iouThrs { parameters.iouThresholds = iou }
            parameters.imageIds = params.imgIds
            parameters.categoryIds = params.catIds

            let evaluation = try COCOEvaluator.evaluate(
                dataset: dataset, detections: results.detections,
                parameters: parameters)
            let s = evaluation.shape
            #expect([s.T, s.R, s.K, s.A, s.M] == expected.shape, "\(name): shape")
            func check(_ ours: [Double], _ reference: [Double], _ what: String) {
                let diff = ReferenceFiles.maxAbsDiff(ours, reference)
                worst = max(worst, diff)
                #expect(diff <= 1e-6, "\(name) \(what): max|Δ| = \(diff), params \(params)")
            }
            check(try evaluation.summary().stats, expected.stats, "stats")
            check(evaluation.recall, expected.recall, "recall")
            let (meanR, weightedR) = Self.precisionDigests(evaluation)
            check(meanR, expected.precision_mean_r, "precision mean over R")
            check(weightedR, expected.precision_weighted_r, "precision weighted over R")
            if let precision = expected.precision { check(evaluation.precision, precision, "precision") }
        }
        #expect(worst <= 1e-6)
    }

    /// Mean and (r + 1)-weighted mean of precision over the recall axis, [T, K, A, M].
    static func precisionDigests(_ evaluation: COCOEvaluation) -> ([Double], [Double]) {
        let s = evaluation.shape
        var mean: [Double] = [], weighted: [Double] = []
        let weightSum = Double(s.R * (s.R + 1) / 2)
        for t in 0..<s.T {
            for k in 0..<s.K {
                for a in 0..<s.A {
                    for m in 0..<s.M {
                        var sum = 0.0, weightedSum = 0.0
                        for r in 0..<s.R {
                            let value = evaluation.precision(t: t, r: r, k: k, a: a, m: m)
                            sum += value
                            weightedSum += value * Double(r + 1)
                        }
                        mean.append(sum / Double(s.R))
                        weighted.append(weightedSum / weightSum)
                    }
                }
            }
        }
        return (mean, weighted)
    }
}
