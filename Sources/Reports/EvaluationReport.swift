import COCO
import Foundation
import Graphics
import Vision

/// What `detr evaluate --report DIR` writes: the summary and a per-class table in Markdown,
/// the table as CSV, precision-recall curves and a confusion matrix as pictures.
///
/// | file | content |
/// |---|---|
/// | `summary.md` | the 12 COCO numbers, the per-class table worst first, links to the pictures |
/// | `per_class.csv` | `category_id,name,ap,ap50,ap75,ap_small,ap_medium,ap_large,num_gt` in id order |
/// | `pr_curves.png` | precision-recall at IoU 0.5, 0.75 and averaged over 0.50:0.95, every class and their mean |
/// | `pr_curves_per_class/NAME.png` | one class's three curves, for the worst and best classes (or all) |
/// | `confusion_matrix.png`, `.csv` | `COCOConfusionMatrix` at the report's thresholds |
public struct EvaluationReport {
    /// Choices of the report.
    public struct Options: Sendable, Equatable {
        /// Confusion matrix: detections with at least this score take part.
        public var confidenceThreshold: Double
        /// Confusion matrix: the IoU a detection needs to match a box.
        public var iouThreshold: Double
        /// A per-class picture for every class instead of the worst and best `extremes`.
        public var allClasses: Bool
        public var extremes: Int

        public init(
            confidenceThreshold: Double = 0.25, iouThreshold: Double = 0.5, allClasses: Bool = false, extremes: Int = 5
        ) {
            self.confidenceThreshold = confidenceThreshold
            self.iouThreshold = iouThreshold
            self.allClasses = allClasses
            self.extremes = extremes
        }
    }

    public let evaluation: COCOEvaluation
    public let summary: COCOSummary
    /// In the evaluation's category order (ascending ids).
    public let classes: [COCOClassResult]
    public let confusion: COCOConfusionMatrix
    public let options: Options
    /// What was evaluated, for the Markdown header (e.g. the two file names).
    public let source: String
    let datasetCounts: (images: Int, annotations: Int)
    let detectionCount: Int

    /// - Parameter source: a line naming what was evaluated, quoted in `summary.md`.
    /// - Throws: `COCOError` when the summary cannot be made (fewer than 3 maxDets values).
    public init(
        evaluation: COCOEvaluation, dataset: COCODataset, detections: [COCODetection], source: String,
        options: Options = Options()
    ) throws {
        self.evaluation = evaluation
        self.summary = try evaluation.summary()
        self.classes = evaluation.classResults(dataset: dataset)
        self.confusion = COCOConfusionMatrix(
            dataset: dataset, detections: detections, confidenceThreshold: options.confidenceThreshold,
            iouThreshold: options.iouThreshold, imageIds: evaluation.parameters.imageIds)
        self.options = options
        self.source = source
        self.datasetCounts = (evaluation.parameters.imageIds?.count ?? dataset.images.count, dataset.annotations.count)
        self.detectionCount = detections.count
    }

    /// The classes that get a picture of their own: all with `allClasses` (or when there are
    /// at most twice `extremes`), else the `extremes` worst and best; worst first. Classes
    /// without ground truth have no curve and no picture.
    public var pictured: [COCOClassResult] {
        let defined = classes.worstFirst.filter(\.isDefined)
        guard !options.allClasses, defined.count > 2 * options.extremes else { return defined }
        return Array(defined.prefix(options.extremes)) + Array(defined.suffix(options.extremes))
    }

    /// The file name (without directory) of each pictured class's curves: the name with
    /// characters other than letters, digits, `-`, `_` and `.` replaced by `_`, and the
    /// category id appended when two names would collide.
    public var pictureNames: [Int: String] {
        var names: [Int: String] = [:]
        var used = Set<String>()
        for c in pictured {
            let base = Self.fileName(c.name.isEmpty ? "category_\(c.categoryId)" : c.name)
            let name = used.contains(base) ? "\(base)_\(c.categoryId)" : base
            used.insert(name)
            names[c.categoryId] = name + ".png"
        }
        return names
    }

    static func fileName(_ text: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        var name = String(text.map { allowed.contains($0) ? $0 : "_" })
        if name.hasPrefix(".") { name = "_" + name.dropFirst() }
        return name
    }

    /// `per_class.csv`: one line per class in category-id order; AP values as the evaluator's
    /// fractions (shortest exact decimal), -1 where undefined.
    public var perClassCSV: String {
        var lines = ["category_id,name,ap,ap50,ap75,ap_small,ap_medium,ap_large,num_gt"]
        for c in classes {
            let values = [c.ap, c.ap50, c.ap75, c.apSmall, c.apMedium, c.apLarge].map(Self.number)
            lines.append(
                (["\(c.categoryId)", COCOConfusionMatrix.csvField(c.name)] + values + ["\(c.groundTruthCount)"])
                    .joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A value as the shortest decimal that reads back as the same double; -1 as "-1".
    static func number(_ v: Double) -> String { v == -1 ? "-1" : "\(v)" }

    /// Every file of the report, rendered (relative path, contents), in writing order.
    public func files() throws -> [(path: String, data: Data)] {
        var files: [(path: String, data: Data)] = [
            ("summary.md", Data(markdown.utf8)),
            ("per_class.csv", Data(perClassCSV.utf8)),
            ("pr_curves.png", try precisionRecallFigure().encoded(.png)),
        ]
        let names = pictureNames
        for c in pictured {
            guard let picture = try classCurves(c) else { continue }
            files.append(("pr_curves_per_class/" + names[c.categoryId]!, try picture.encoded(.png)))
        }
        files.append(("confusion_matrix.png", try confusionPicture().encoded(.png)))
        files.append(("confusion_matrix.csv", Data(confusion.csv.utf8)))
        return files
    }

    /// Renders everything, then writes it into `directory` at once (`StagedOutput`).
    /// - Returns: the paths written, relative to `directory`.
    @discardableResult
    public func write(to directory: URL) throws -> [String] {
        let rendered = try files()
        let output = try StagedOutput(destination: directory)
        for file in rendered { try output.write(file.data, to: file.path) }
        return try output.commit()
    }
}
