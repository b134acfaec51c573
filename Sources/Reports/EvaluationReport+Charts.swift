import COCO
import Foundation
import Graphics
import Vision

extension EvaluationReport {
    /// The three curve selections of the report: (IoU threshold or nil for the mean, title).
    static let curveSelections: [(iou: Double?, title: String)] = [
        (0.5, "IoU 0.50"), (0.75, "IoU 0.75"), (nil, "IoU 0.50:0.95 (mean)"),
    ]

    /// Precision over recall, recall and precision from 0 to 1.
    static func prChart(title: String, subtitle: String?, series: [LineChart.Series]) -> LineChart {
        LineChart(
            title: title, subtitle: subtitle, x: Axis("recall", range: 0...1), y: Axis("precision", range: 0...1.02),
            series: series, note: series.isEmpty ? "no class has ground truth" : nil)
    }

    static func points(_ curve: COCOPrecisionCurve) -> [Point] {
        zip(curve.recall, curve.precision).map { Point($0, $1) }
    }

    /// `pr_curves.png`: one panel per selection; each class thin (coloured and named with at
    /// most 10 classes, light grey beyond), the mean over classes thick and dark.
    public func precisionRecallFigure() throws -> Image {
        let slot = Dictionary(uniqueKeysWithValues: evaluation.categoryIds.enumerated().map { ($1, $0) })
        let defined = classes.filter(\.isDefined)
        let named = defined.count <= 10
        var panels: [any Chart] = []
        for (iou, title) in Self.curveSelections {
            var series: [LineChart.Series] = []
            for (i, c) in defined.enumerated() {
                guard let k = slot[c.categoryId], let curve = evaluation.precisionCurve(iou: iou, categories: [k])
                else { continue }
                series.append(
                    LineChart.Series(
                        name: named ? String(format: "%@ %.3f", c.name, curve.averagePrecision) : nil,
                        points: Self.points(curve), color: named ? Color.series(i + 1) : Color.gray(0.78),
                        lineWidth: named ? 1.5 : 1))
            }
            if let mean = evaluation.precisionCurve(iou: iou) {
                series.append(
                    LineChart.Series(
                        name: String(format: "all classes %.3f", mean.averagePrecision), points: Self.points(mean),
                        color: Color.series(0), lineWidth: 3))
            }
            panels.append(Self.prChart(title: title, subtitle: nil, series: series))
        }
        let figure = Figure(
            title: "Precision-recall",
            subtitle: (named
                ? "\(defined.count) classes with ground truth (legend: class and its AP)"
                : "\(defined.count) classes with ground truth in grey, their mean in blue")
                + " · area all · maxDets \(evaluation.parameters.maxDetections.last!)",
            panels: panels, columns: 3)
        return try figure.rendered(panelWidth: 520, panelHeight: 470)
    }

    /// One class's curves at the three selections; nil for a class without ground truth.
    public func classCurves(_ c: COCOClassResult) throws -> Image? {
        guard let k = evaluation.categoryIds.firstIndex(of: c.categoryId) else { return nil }
        var series: [LineChart.Series] = []
        for (index, selection) in Self.curveSelections.enumerated() {
            guard let curve = evaluation.precisionCurve(iou: selection.iou, categories: [k]) else { return nil }
            series.append(
                LineChart.Series(
                    name: String(format: "%@ AP %.3f", selection.title, curve.averagePrecision),
                    points: Self.points(curve), color: Color.series(index), lineWidth: index == 2 ? 3 : 2,
                    dash: index == 2 ? [] : [7, 3]))
        }
        let chart = Self.prChart(
            title: "\(c.name) (id \(c.categoryId))",
            subtitle: String(
                format: "AP %.3f · AP50 %.3f · %ld ground-truth boxes · rank %ld of %ld by AP", c.ap, c.ap50,
                c.groundTruthCount, (classes.worstFirst.firstIndex(of: c) ?? 0) + 1, classes.filter(\.isDefined).count),
            series: series)
        return try chart.rendered(width: 640, height: 520)
    }

    /// `confusion_matrix.png`: counts in the cells, shaded by their share of the row.
    public func confusionPicture() throws -> Image {
        let n = confusion.counts.count
        let names = confusion.categoryNames + ["background"]
        var text: [[String]] = [], shades: [[Double?]] = []
        for (r, row) in confusion.counts.enumerated() {
            let total = row.reduce(0, +)
            text.append(row.enumerated().map { c, v in r == n - 1 && c == n - 1 ? "" : (v == 0 ? "" : "\(v)") })
            shades.append(
                row.enumerated().map { c, v in
                    r == n - 1 && c == n - 1 ? nil : (total > 0 ? Double(v) / Double(total) : 0)
                })
        }
        let chart = MatrixChart(
            title: "Confusion matrix",
            subtitle: String(
                format: "score ≥ %.2f · IoU ≥ %.2f · background column: missed boxes, row: false positives",
                confusion.confidenceThreshold, confusion.iouThreshold),
            rowTitle: "ground truth", columnTitle: "predicted", rowLabels: names, columnLabels: names,
            cellText: text, shades: shades, shadeTitle: "share of the row", dividerBeforeLast: true)
        let cell = Swift.max(14, Swift.min(56, 760 / n))
        let longest = names.map(\.count).max() ?? 0
        let labelRoom = Swift.min(160, 12 + 7 * longest)
        let side = n * cell
        return try chart.rendered(
            width: Swift.max(520, side + labelRoom + 150), height: Swift.max(420, side + labelRoom + 110))
    }
}
