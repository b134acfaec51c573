import ArgumentParser
import COCO
import Datasets
import Detection
import Diagnostics
import Foundation
import Records
import Reports
import Torch

/// `detr evaluate`: COCO bbox metrics of a results file, identical to pycocotools' COCOeval.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Compute COCO bbox AP/AR of a results file against an annotation file (pycocotools-identical).",
        discussion: """
            Prints the 12-line COCOeval summary (same format and numbers as pycocotools' summarize()), \
            or with --json one object {"AP","AP50","AP75","APs","APm","APl","AR1","AR10","AR100","ARs","ARm","ARl"} \
            (the AR keys follow --max-dets). --per-category adds AP, AP50, AP75 and AR per category \
            (area all, largest maxDets; -1 for a category without ground truth). \
            Notes about tolerated input (e.g. results for categories the annotations do not define, \
            which pycocotools ignores) go to stderr. --report DIR also writes summary.md (the 12 numbers and a \
            per-class table, worst first), per_class.csv, pr_curves.png, pr_curves_per_class/NAME.png (the 5 \
            worst and 5 best classes, or all with --all-classes) and confusion_matrix.png/.csv (detections with \
            score >= --conf matched to boxes at IoU >= --iou; rows ground truth, columns predicted, plus \
            background). The report's files appear together or not at all.
            """)

    @Option(name: .long, help: "Annotations: a COCO .json, a YOLO data.yaml (labels beside the images) or a VOC Annotations folder or ImageSets/Main/<split>.txt.")
    var annotations: String

    @Option(name: .customLong("annotation-format"), help: "The annotations' format: coco, yolo or voc (default: told by the path).")
    var annotationFormat: AnnotationFormat?

    @Option(name: .long, help: "COCO results file: [{\"image_id\", \"category_id\", \"bbox\": [x,y,w,h], \"score\"}].")
    var results: String?

    @Flag(name: .long, help: "Print the metrics as one JSON object.")
    var json = false

    @Flag(name: .customLong("per-category"), help: "Also report AP/AR per category.")
    var perCategory = false

    @Option(
        name: .customLong("use-cats"), help: "false (or 0): ignore category labels (pycocotools useCats = 0).",
        transform: Evaluate.parseBool)
    var useCats = true

    @Option(name: .customLong("max-dets"), help: "Comma-separated detections-per-image limits (at least 3 values).")
    var maxDets = "1,10,100"

    @Option(
        name: .customLong("iou-thresholds"),
        help: "Comma-separated IoU thresholds (default .50:.05:.95, as numpy.linspace).")
    var iouThresholds: String?

    @Option(name: .customLong("image-ids"), help: "Comma-separated image ids to evaluate (default: all).")
    var imageIds: String?

    @Option(
        help: ArgumentHelp(
            "Also write a report (Markdown, CSV, precision-recall curves, confusion matrix) into this directory.",
            valueName: "dir"))
    var report: String?

    @Flag(name: .customLong("all-classes"), help: "With --report: a precision-recall picture for every class.")
    var allClasses = false

    @Option(
        parsing: .unconditional,
        help: "With --report: the lowest detection score the confusion matrix counts (default 0.25).")
    var conf: Double?

    @Option(
        parsing: .unconditional,
        help: "With --report: the IoU a detection needs to match a box in the confusion matrix (default 0.5).")
    var iou: Double?

    @Flag(name: .shortAndLong, help: "Do not print notes about tolerated input.")
    var quiet = false

    @Flag(name: .long, help: "Print the seconds spent loading and evaluating on stderr.")
    var timing = false

    // Evaluating a detector directly: run it on --images, then evaluate.
    @OptionGroup(title: "Running a detector on --images first (--config, --weights and --images together)")
    var model: ModelOptions

    @Option(name: .long, help: "The image directory of the annotation file (with --config).")
    var images: String?

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Images per forward pass (with --config).")
    var batchSize: Int = 1

    @Option(name: .customLong("save-results"), help: "Write the detector's COCO results file here (with --config).")
    var saveResults: String?

    func validate() throws {
        if model.config != nil || model.weights != nil || images != nil {
            guard model.config != nil, model.weights != nil, images != nil else {
                throw ValidationError("running a detector needs --config, --weights and --images together")
            }
            guard results == nil else { throw ValidationError("give either --results or --config/--weights/--images") }
            guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        } else {
            guard results != nil else {
                throw ValidationError("--results is required (or --config/--weights/--images)")
            }
        }
        if report == nil && (allClasses || conf != nil || iou != nil) {
            throw ValidationError("--all-classes, --conf and --iou apply to --report DIR")
        }
        if let conf, !conf.isFinite { throw ValidationError("--conf must be a finite number") }
        if let iou, !(iou > 0 && iou <= 1) { throw ValidationError("--iou must lie in (0, 1], got \(iou)") }
        _ = try parameters()
    }

    /// Runs the detector over the annotation file's images; returns its detections (evaluated once,
    /// by the caller, with the requested parameters).
    func detect(dataset: COCODataset) throws -> [COCODetection] {
        let predictor = try model.loadPredictor()
        var progress: ProgressBar?
        let result = try DatasetEvaluator.detect(
            predictor: predictor, imagesDirectory: URL(fileURLWithPath: images!),
            coco: dataset, annotationName: annotations, batchSize: batchSize
        ) { done, total in
            if progress == nil {
                progress = ProgressBar(total: total, label: "evaluate", enabled: !quiet && Terminal.stderrIsTTY)
            }
            progress?.advance(by: done - (progress?.doneCount ?? 0))
        }
        progress?.finish()
        for s in result.skipped { Terminal.error(s) }
        if let saveResults {
            try COCOResults(detections: result.detections).write(to: URL(fileURLWithPath: saveResults))
        }
        return result.detections
    }

    /// The evaluation parameters from the options (usage errors as `ValidationError`).
    func parameters() throws -> COCOEvalParameters {
        var parameters = COCOEvalParameters(useCategories: useCats)
        parameters.maxDetections = try Self.list(maxDets, option: "--max-dets") { Int($0) }
        guard parameters.maxDetections.count >= 3, parameters.maxDetections.allSatisfy({ $0 > 0 }) else {
            throw ValidationError(
                "--max-dets needs at least 3 positive integers (the summary reads the first three), got '\(maxDets)'")
        }
        if let iouThresholds {
            parameters.iouThresholds = try Self.list(iouThresholds, option: "--iou-thresholds") { Double($0) }
            guard parameters.iouThresholds.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
                throw ValidationError("--iou-thresholds must lie in [0, 1], got '\(iouThresholds)'")
            }
        }
        if let imageIds { parameters.imageIds = try Self.list(imageIds, option: "--image-ids") { Int($0) } }
        return parameters
    }

    func run() throws {
        let output: String
        do {
            let parameters = try parameters()
            let clock = ContinuousClock()
            let start = clock.now
            let dataset = try DetectionAnnotations.load(
                URL(fileURLWithPath: annotations), images: images.map { URL(fileURLWithPath: $0) },
                format: annotationFormat, displayName: annotations)
            let loaded =
                results != nil
                ? try COCOResults(contentsOf: URL(fileURLWithPath: results!), displayName: results!, dataset: dataset)
                : COCOResults(detections: try detect(dataset: dataset))
            let loadedAt = clock.now
            let evaluation = try COCOEvaluator.evaluate(
                dataset: dataset, detections: loaded.detections, parameters: parameters)
            let evaluatedAt = clock.now
            if !quiet {
                for note in dataset.report.notes { Terminal.note("detr: note: \(annotations): \(note)") }
                for note in loaded.report.notes { Terminal.note("detr: note: \(results ?? "results"): \(note)") }
            }
            if timing {
                func seconds(_ d: Duration) -> String {
                    String(format: "%.3f", Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
                }
                Terminal.note(
                    "timing: load \(seconds(loadedAt - start)) s, evaluate \(seconds(evaluatedAt - loadedAt)) s "
                        + "(\(dataset.images.count) images, \(dataset.annotations.count) annotations, \(loaded.detections.count) detections)"
                )
            }
            let summary = try evaluation.summary()
            output = json ? try jsonText(summary, evaluation) : text(summary, evaluation)
            if let report {
                try writeReport(report, evaluation: evaluation, dataset: dataset, detections: loaded.detections)
            }
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        print(output)
    }

    /// Writes the `--report` directory (all files at once) and names it on stderr.
    private func writeReport(
        _ directory: String, evaluation: COCOEvaluation, dataset: COCODataset, detections: [COCODetection]
    ) throws {
        let source =
            results.map { "Annotations `\(annotations)`, results `\($0)`." }
            ?? "Annotations `\(annotations)`, detector `\(model.config!)` with weights `\(model.weights!)` on `\(images!)`."
        let options = EvaluationReport.Options(
            confidenceThreshold: conf ?? 0.25, iouThreshold: iou ?? 0.5, allClasses: allClasses)
        let files = try EvaluationReport(
            evaluation: evaluation, dataset: dataset, detections: detections, source: source, options: options
        ).write(to: URL(fileURLWithPath: directory))
        if !quiet { Terminal.note("report: \(directory) (\(files.count) files, summary.md first)") }
    }

    private func text(_ summary: COCOSummary, _ evaluation: COCOEvaluation) -> String {
        guard perCategory else { return summary.text }
        let maxDet = evaluation.parameters.maxDetections.last!
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
        }
        var lines = [
            summary.text, "", "Per category (area=all, maxDets=\(maxDet); AP and AR averaged over the IoU thresholds):",
            "      id  " + pad("name", 24) + "      AP    AP50    AP75      AR",
        ]
        for m in evaluation.perCategory {
            lines.append(
                String(format: "%8d  ", m.categoryId) + pad(m.name, 24)
                    + String(format: " %7.3f %7.3f %7.3f %7.3f", m.ap, m.ap50, m.ap75, m.ar))
        }
        return lines.joined(separator: "\n")
    }

    /// The 12 metrics under their pycocotools names, and with --per-category a `per_category` list.
    struct EvaluationJSON: Encodable {
        var summary: COCOSummary
        var perCategory: [CategoryEntry]?

        struct CategoryEntry: Encodable {
            var id: Int
            var name: String
            var ap, ap50, ap75, ar: FiniteOrNull<Double>

            enum CodingKeys: String, CodingKey {
                case id, name, ap = "AP", ap50 = "AP50", ap75 = "AP75", ar = "AR"
            }
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: DynamicKey.self)
            for line in summary.lines { try c.encode(FiniteOrNull(line.value), forKey: DynamicKey(line.key)) }
            if let perCategory { try c.encode(perCategory, forKey: DynamicKey("per_category")) }
        }
    }

    private func jsonText(_ summary: COCOSummary, _ evaluation: COCOEvaluation) throws -> String {
        let categories =
            perCategory
            ? evaluation.perCategory.map { m in
                EvaluationJSON.CategoryEntry(
                    id: m.categoryId, name: m.name, ap: FiniteOrNull(m.ap), ap50: FiniteOrNull(m.ap50),
                    ap75: FiniteOrNull(m.ap75), ar: FiniteOrNull(m.ar))
            } : nil
        return try JSONOutput.encode(EvaluationJSON(summary: summary, perCategory: categories))
    }

    static func parseBool(_ text: String) throws -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ValidationError("--use-cats expects true or false, got '\(text)'")
        }
    }

    private static func list<T>(_ text: String, option: String, _ parse: (String) -> T?) throws -> [T] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let values = items.compactMap(parse)
        guard !items.isEmpty, values.count == items.count else {
            throw ValidationError("\(option) expects a comma-separated list of numbers, got '\(text)'")
        }
        return values
    }
}
