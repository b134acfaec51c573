import COCO
import Foundation
import TestSupport
import Testing

/// The numbers behind `detr evaluate --report`: the per-class table and the precision-recall
/// curves against pycocotools' own precision array of the fixture, the confusion matrix
/// against a hand-counted case.
@Suite struct ReportDataTests {
    /// The fixture evaluated with the default parameters, and pycocotools' precision array
    /// [T, R, K, A, M] of the same evaluation.
    static func fixture() throws -> (COCODataset, COCOEvaluation, (shape: [Int], values: [Double]), URL) {
        let dir = try ReferenceFiles.cocoEval()
        let dataset = try COCODataset(contentsOf: dir.appendingPathComponent("gt.json"))
        let results = try COCOResults(contentsOf: dir.appendingPathComponent("detections.json"), dataset: dataset)
        let evaluation = try COCOEvaluator.evaluate(dataset: dataset, detections: results.detections)
        let arrays = try ReferenceFiles.float64Tensors(dir.appendingPathComponent("expected_arrays.safetensors"))
        let precision = try #require(arrays["default.precision"])
        return (dataset, evaluation, precision, dir)
    }

    /// Reference precision[t, r, k, a, m].
    static func at(_ p: (shape: [Int], values: [Double]), _ t: Int, _ r: Int, _ k: Int, _ a: Int, _ m: Int) -> Double {
        let s = p.shape
        return p.values[(((t * s[1] + r) * s[2] + k) * s[3] + a) * s[4] + m]
    }

    /// The mean of the reference entries over `ts` and every r that are not -1 (-1 when none).
    static func referenceMean(_ p: (shape: [Int], values: [Double]), ts: [Int], k: Int, a: Int) -> Double {
        var sum = 0.0, count = 0
        for t in ts {
            for r in 0..<p.shape[1] {
                let v = at(p, t, r, k, a, p.shape[4] - 1)
                if v > -1 {
                    sum += v
                    count += 1
                }
            }
        }
        return count == 0 ? -1 : sum / Double(count)
    }

    @Test(.needsFixtures) func perClassTableEqualsThePrecisionArray() throws {
        let (dataset, evaluation, reference, dir) = try Self.fixture()
        let classes = evaluation.classResults(dataset: dataset)
        let K = reference.shape[2], T = reference.shape[0]
        let json = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("gt.json")))
                as? [String: Any])
        // One class per category of the ground-truth file, in ascending id order (pycocotools' K axis).
        let ids = (json["categories"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }.sorted()
        #expect(!ids.isEmpty && classes.map(\.categoryId) == ids && K == ids.count)
        // Non-crowd annotations per category, counted from the JSON itself.
        var gt: [Int: Int] = [:]
        for case let a as [String: Any] in json["annotations"] as? [Any] ?? [] where (a["iscrowd"] as? Int ?? 0) == 0 {
            gt[a["category_id"] as! Int, default: 0] += 1
        }
        var areasSeen = Set<Int>()
        for (k, c) in classes.enumerated() {
            let expected = [
                Self.referenceMean(reference, ts: Array(0..<T), k: k, a: 0),
                Self.referenceMean(reference, ts: [0], k: k, a: 0),
                Self.referenceMean(reference, ts: [5], k: k, a: 0),
                Self.referenceMean(reference, ts: Array(0..<T), k: k, a: 1),
                Self.referenceMean(reference, ts: Array(0..<T), k: k, a: 2),
                Self.referenceMean(reference, ts: Array(0..<T), k: k, a: 3),
            ]
            let got = [c.ap, c.ap50, c.ap75, c.apSmall, c.apMedium, c.apLarge]
            #expect(ReferenceFiles.maxAbsDiff(got, expected) <= 1e-12, "\(c.name): \(got) vs \(expected)")
            for (i, v) in got.enumerated() where v > -1 { areasSeen.insert(i) }
            #expect(c.groundTruthCount == gt[c.categoryId] ?? 0, "\(c.name)")
        }
        // The fixture exercises every column.
        #expect(areasSeen == Set(0..<6))
        // Worst first; the category without ground truth (AP -1) last.
        let ordered = classes.worstFirst.map(\.ap)
        #expect(ordered.last == -1 && classes.filter { !$0.isDefined }.count == 1)
        #expect(Array(ordered.dropLast()) == ordered.dropLast().sorted())
    }

    @Test(.needsFixtures) func precisionCurvesArePycocotoolsArray() throws {
        let (_, evaluation, reference, _) = try Self.fixture()
        let (T, R, K) = (reference.shape[0], reference.shape[1], reference.shape[2])
        let m = reference.shape[4] - 1
        let summary = try evaluation.summary()
        var defined = 0
        for k in 0..<K {
            // One class at one threshold: the array's own column, value for value; no curve
            // for a class without ground truth (-1 in the array).
            for (t, iou) in [(0, 0.5), (5, 0.75)] {
                let column = (0..<R).map { Self.at(reference, t, $0, k, 0, m) }
                guard let curve = evaluation.precisionCurve(iou: iou, categories: [k]) else {
                    #expect(column.allSatisfy { $0 == -1 }, "class \(k)")
                    continue
                }
                defined += 1
                #expect(curve.precision == column)
                #expect(curve.recall == COCOEvalParameters.defaultRecallThresholds)
            }
        }
        #expect(defined == 2 * (K - 1))
        // All classes: the mean over classes (and thresholds) at each recall threshold.
        for (iou, ts, stat) in [(0.5, [0], 1), (0.75, [5], 2), (nil, Array(0..<T), 0)] as [(Double?, [Int], Int)] {
            let curve = try #require(evaluation.precisionCurve(iou: iou))
            let expected = (0..<R).map { r in
                var sum = 0.0, count = 0.0
                for t in ts {
                    for k in 0..<K where Self.at(reference, t, r, k, 0, m) > -1 {
                        sum += Self.at(reference, t, r, k, 0, m)
                        count += 1
                    }
                }
                return sum / count
            }
            #expect(ReferenceFiles.maxAbsDiff(curve.precision, expected) <= 1e-12)
            // Its mean is the summary's AP / AP50 / AP75.
            #expect(abs(curve.averagePrecision - summary.stats[stat]) <= 1e-12, "stat \(stat)")
        }
        #expect(evaluation.precisionCurve(iou: 0.55555) == nil)
    }

    /// Three images, categories a (1) and b (2); the expected counts are worked out by hand
    /// below, detection by detection.
    @Test func confusionMatrixOfAHandCountedCase() throws {
        func box(_ x: Double, _ y: Double, _ w: Double = 10, _ h: Double = 10) -> COCOBox {
            COCOBox(x: x, y: y, width: w, height: h)
        }
        let dataset = try COCODataset(
            images: [1, 2, 3].map { COCODataset.Image(id: $0, width: 200, height: 200) },
            categories: [COCODataset.Category(id: 1, name: "a"), COCODataset.Category(id: 2, name: "b, quoted")],
            annotations: [
                .init(id: 1, imageId: 1, categoryId: 1, box: box(0, 0)),
                .init(id: 2, imageId: 1, categoryId: 2, box: box(20, 0)),
                .init(id: 3, imageId: 1, categoryId: 1, box: box(40, 0)),
                .init(id: 4, imageId: 2, categoryId: 1, box: box(0, 0, 50, 50), isCrowd: true),
                .init(id: 5, imageId: 2, categoryId: 2, box: box(60, 0)),
                .init(id: 6, imageId: 3, categoryId: 1, box: box(0, 0)),
                .init(id: 7, imageId: 3, categoryId: 2, box: box(100, 100)),
            ])
        let detections = [
            // Image 1: a on a (IoU 1) → (a, a); a on b at IoU 90/110 = 0.82 → (b, a); b on the
            // second a but below the score threshold → not used, that a is missed → (a, bg);
            // b far from everything → (bg, b).
            COCODetection(imageId: 1, categoryId: 1, box: box(0, 0), score: 0.9),
            COCODetection(imageId: 1, categoryId: 1, box: box(21, 0), score: 0.8),
            COCODetection(imageId: 1, categoryId: 2, box: box(40, 0), score: 0.2),
            COCODetection(imageId: 1, categoryId: 2, box: box(150, 150), score: 0.6),
            // Image 2: a inside the a crowd region → excused; b on b → (b, b); a second b on
            // the same box (IoU 90/110) loses to the first → (bg, b); an a inside the crowd
            // region of a but also overlapping nothing else → excused as well.
            COCODetection(imageId: 2, categoryId: 1, box: box(5, 5), score: 0.7),
            COCODetection(imageId: 2, categoryId: 2, box: box(60, 0), score: 0.5),
            COCODetection(imageId: 2, categoryId: 2, box: box(61, 0), score: 0.4),
            COCODetection(imageId: 2, categoryId: 1, box: box(30, 30), score: 0.3),
            // Image 3: a at IoU 80/120 = 0.67 with score 0.9 and b at IoU 1 with score 0.5 on
            // the same a box: the higher IoU wins → (a, b), the a detection → (bg, a). b's box
            // at (100, 100) is found exactly at IoU 0.5 (100/200) → (b, b); a b inside the a
            // crowd of image 2's coordinates is not excused here (no crowd in image 3) → (bg, b).
            COCODetection(imageId: 3, categoryId: 1, box: box(2, 0), score: 0.9),
            COCODetection(imageId: 3, categoryId: 2, box: box(0, 0), score: 0.5),
            COCODetection(imageId: 3, categoryId: 2, box: box(100, 100, 20, 10), score: 0.35),
            COCODetection(imageId: 3, categoryId: 2, box: box(5, 30), score: 0.3),
            // Not evaluated: an image outside the dataset's selection below.
            COCODetection(imageId: 4, categoryId: 1, box: box(0, 0), score: 0.9),
        ]
        let matrix = COCOConfusionMatrix(
            dataset: dataset, detections: detections, confidenceThreshold: 0.25, iouThreshold: 0.5)
        // Rows: ground truth a, b, background; columns: predicted a, b, background.
        #expect(
            matrix.counts == [
                [1, 1, 1],  // a: found as a (img 1), as b (img 3), missed (img 1)
                [1, 2, 0],  // b: found as a (img 1), as b (img 2, img 3)
                [1, 3, 0],  // false positives: a (img 3), b (img 1, img 2, img 3)
            ])
        #expect(matrix.excusedByCrowd == 2)
        #expect(
            matrix.csv == """
                ground_truth\\predicted,a,"b, quoted",background
                a,1,1,1
                "b, quoted",1,2,0
                background,1,3,0

                """)
        // A stricter IoU: the 0.82 and 0.67 overlaps and the exact 0.5 no longer match.
        let strict = COCOConfusionMatrix(
            dataset: dataset, detections: detections, confidenceThreshold: 0.25, iouThreshold: 0.9)
        #expect(strict.counts == [[1, 1, 1], [0, 1, 2], [2, 4, 0]])
        #expect(strict.excusedByCrowd == 2)
        // Only image 2.
        let one = COCOConfusionMatrix(dataset: dataset, detections: detections, imageIds: [2])
        #expect(one.counts == [[0, 0, 0], [0, 1, 0], [0, 1, 0]])
    }
}
