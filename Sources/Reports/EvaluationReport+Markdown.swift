import COCO
import Foundation

extension EvaluationReport {
    /// `summary.md`.
    public var markdown: String {
        func value(_ v: Double) -> String { v == -1 ? "–" : String(format: "%.3f", v) }
        func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        let maxDets = evaluation.parameters.maxDetections.last!
        var md = [
            "# COCO evaluation report", "",
            "\(source)  ",
            "\(datasetCounts.images) images, \(classes.count) categories, \(detectionCount) detections.", "",
            "## Summary", "",
            "The 12 numbers of pycocotools' `summarize()` (same selections and values).", "",
            "| metric | IoU | area | maxDets | value |", "|---|---|---|---|---:|",
        ]
        for line in summary.lines {
            let iou = line.iou.map { String(format: "%.2f", $0) } ?? "0.50:0.95"
            md.append("| \(line.key) | \(iou) | \(line.area) | \(line.maxDets) | \(value(line.value)) |")
        }
        md += [
            "", "## Per class, worst first", "",
            """
            AP averaged over the IoU thresholds 0.50:0.95, AP50 and AP75 at one threshold, APs/APm/APl for \
            small (< 32² px), medium and large (> 96² px) objects; area "all" except APs/m/l, maxDets \(maxDets). \
            – marks a value without ground truth. GT boxes: the class's non-crowd annotations on the evaluated \
            images (crowd regions are not counted). `per_class.csv` has the same values unrounded, in id order.
            """, "",
            "| class | id | AP | AP50 | AP75 | APs | APm | APl | GT boxes |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for c in classes.worstFirst {
            md.append(
                "| \(cell(c.name)) | \(c.categoryId) | \(value(c.ap)) | \(value(c.ap50)) | \(value(c.ap75)) | "
                    + "\(value(c.apSmall)) | \(value(c.apMedium)) | \(value(c.apLarge)) | \(c.groundTruthCount) |")
        }
        md += [
            "", "## Precision-recall curves", "",
            """
            pycocotools' interpolated precision at each recall threshold (from the evaluator's precision \
            array, area all, maxDets \(maxDets)); "all classes" is the mean over the classes with ground truth, \
            and the mean of a curve is its AP.
            """, "",
            "![precision-recall curves](pr_curves.png)", "",
        ]
        let names = pictureNames
        let links = pictured.map { "[\(cell($0.name))](pr_curves_per_class/\(names[$0.categoryId]!))" }
        if !links.isEmpty {
            let which =
                pictured.count == classes.filter(\.isDefined).count
                ? "Every class with ground truth"
                : "The \(options.extremes) worst and \(options.extremes) best classes"
            md += ["\(which), one picture each: " + links.joined(separator: ", ") + ".", ""]
        }
        md += [
            "## Confusion matrix", "",
            String(
                format: """
                    Detections with score ≥ %.2f, matched to ground-truth boxes at IoU ≥ %.2f. Rows are the \
                    ground truth, columns the prediction: a box matched by a detection of another class counts \
                    off the diagonal, an unmatched box in the **background column** (missed), an unmatched \
                    detection in the **background row** (false positive). Pairs are matched greedily by \
                    descending IoU whatever their classes, one detection per box. Crowd regions are never \
                    missed; unmatched detections inside a crowd region of their class are not counted \
                    (%ld here), as COCO evaluation ignores them.
                    """, confusion.confidenceThreshold, confusion.iouThreshold, confusion.excusedByCrowd), "",
            "![confusion matrix](confusion_matrix.png)", "",
            "Counts: `confusion_matrix.csv`.", "",
        ]
        return md.joined(separator: "\n")
    }
}
