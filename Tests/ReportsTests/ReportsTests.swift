import COCO
import Foundation
import Graphics
import Reports
import TestSupport
import Testing
import Training
import Vision

/// The pieces of the report commands that are not pictures: smoothing, term grouping,
/// staged writing, the class selection and CSV of an evaluation report.
struct ReportsTests {
    @Test func exponentialSmoothingByHand() {
        // m = 0.5, 1.25, 2.125; corrections 1 - 0.5, 1 - 0.25, 1 - 0.125.
        let smoothed = Smoothing.exponential([1, 2, 3], weight: 0.5)
        #expect(zip(smoothed, [1, 5.0 / 3, 17.0 / 7]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(Smoothing.exponential([4, 1, 7], weight: 0) == [4, 1, 7])
        #expect(Smoothing.automaticWeight(count: 20) == 0)
        #expect(abs(Smoothing.automaticWeight(count: 330) - 0.9) < 1e-12)
    }

    @Test func auxiliaryTerms() {
        for term in ["loss_bbox_0", "loss_ce_enc", "loss_giou_dn", "loss_bbox_dn_2", "cardinality_error_3"] {
            #expect(TrainingCurves.isAuxiliary(term), "\(term)")
        }
        for term in ["loss", "loss_ce", "class_error", "loss_salience", "cardinality_error"] {
            #expect(!TrainingCurves.isAuxiliary(term), "\(term)")
        }
    }

    @Test func stagedOutputAppearsAtOnce() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("staged-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let destination = root.appendingPathComponent("out")
        let staged = try StagedOutput(destination: destination)
        try staged.write(Data("a".utf8), to: "a.txt")
        try staged.write(Data("b".utf8), to: "sub/b.txt")
        // Before the commit only the hidden staging directory exists.
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination.path).allSatisfy { $0.hasPrefix(".") })
        #expect(try staged.commit() == ["a.txt", "sub/b.txt"])
        #expect(try String(contentsOf: destination.appendingPathComponent("sub/b.txt"), encoding: .utf8) == "b")
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination.path).sorted() == ["a.txt", "sub"])
        // Discarded: a destination made for the output disappears again.
        let other = root.appendingPathComponent("other")
        let abandoned = try StagedOutput(destination: other)
        try abandoned.write(Data("x".utf8), to: "x.txt")
        abandoned.discard()
        #expect(!FileManager.default.fileExists(atPath: other.path))
    }

    /// 12 categories with one box each on its own image; category c is detected with an IoU
    /// that falls with c (0.93 for 1, 0.38 for 12), so AP falls from 0.9 (category 1) to 0
    /// (categories 9 to 12, tied, ordered by id). Category 13 has no box.
    static func twelveClasses() throws -> (COCODataset, [COCODetection]) {
        let categories = (1...13).map { COCODataset.Category(id: $0, name: "class/\($0)") }
        let images = (1...12).map { COCODataset.Image(id: $0, width: 100, height: 100) }
        let boxes = (1...12).map {
            COCODataset.Annotation(id: $0, imageId: $0, categoryId: $0, box: COCOBox(x: 0, y: 0, width: 40, height: 40))
        }
        let detections = (1...12).map { c in
            COCODetection(
                imageId: c, categoryId: c, box: COCOBox(x: Double(c) * 1.5, y: 0, width: 40, height: 40), score: 0.9)
        }
        return (try COCODataset(images: images, categories: categories, annotations: boxes), detections)
    }

    @Test func reportPicturesTheWorstAndBestClasses() throws {
        let (dataset, detections) = try Self.twelveClasses()
        let evaluation = try COCOEvaluator.evaluate(dataset: dataset, detections: detections)
        let report = try EvaluationReport(
            evaluation: evaluation, dataset: dataset, detections: detections, source: "test")
        let worst = report.classes.worstFirst.map(\.categoryId)
        #expect(worst.last == 13)
        #expect(report.pictured.map(\.categoryId) == Array(worst.prefix(5)) + Array(worst.dropLast().suffix(5)))
        #expect(report.pictured.count == 10 && !report.pictured.contains { $0.categoryId == 13 })
        #expect(report.pictureNames[1] == "class_1.png")
        var all = EvaluationReport.Options()
        all.allClasses = true
        let full = try EvaluationReport(
            evaluation: evaluation, dataset: dataset, detections: detections, source: "test", options: all)
        #expect(full.pictured.count == 12)

        // per_class.csv: the evaluator's values exactly, in id order, -1 where undefined.
        let lines = report.perClassCSV.split(separator: "\n")
        #expect(lines.count == 14)
        for (line, c) in zip(lines.dropFirst(), report.classes) {
            let f = line.split(separator: ",").map(String.init)
            #expect(Int(f[0]) == c.categoryId && f[1] == c.name && Int(f[8]) == c.groundTruthCount)
            #expect(f[2...7].map { Double($0)! } == [c.ap, c.ap50, c.ap75, c.apSmall, c.apMedium, c.apLarge])
        }
        #expect(lines.last == "13,class/13,-1,-1,-1,-1,-1,-1,0")

        let files = try report.files()
        #expect(files.map(\.path).filter { $0.hasPrefix("pr_curves_per_class/") }.count == 10)
        let pr = try Image(data: try #require(files.first { $0.path == "pr_curves.png" }).data)
        #expect(pr.width == 3 * 520)
    }

    @Test func trainingCurveFiles() throws {
        var lines: [String] = []
        for step in 1...60 {
            lines.append(
                "{\"epoch\":\(step / 30),\"step\":\(step),\"lr\":0.0001,\"loss\":\(10.0 / Double(step)),"
                    + "\"loss_ce\":\(1.0 / Double(step)),\"loss_ce_0\":\(2.0 / Double(step))}")
        }
        lines.append("{\"epoch\":1,\"eval\":true,\"AP\":0.25,\"APs\":-1}")
        lines.append("{\"epoch\":2,\"eval\":true,\"AP\":0.5,\"APs\":-1}")
        let records = try TrainingLogRecords(data: Data(lines.joined(separator: "\n").utf8), name: "log.jsonl")
        let curves = TrainingCurves(runs: [.init(name: "a", records: records), .init(name: "b", records: records)])
        let figures = try curves.figures()
        #expect(figures.map(\.name) == ["losses.png", "losses_aux.png", "lr.png", "coco.png"])
        // losses.png: loss and loss_ce side by side.
        #expect(figures[0].image.width == 2 * 440)
        #expect(figures[3].image.width == 4 * 330)
        let noEval = TrainingCurves(runs: [
            .init(name: "a", records: try TrainingLogRecords(data: Data(lines[0].utf8), name: "x"))
        ])
        #expect(try noEval.figures().map(\.name) == ["losses.png", "losses_aux.png", "lr.png"])
    }
}
