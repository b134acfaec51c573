import Foundation

/// COCO-format datasets, results files and bbox evaluation equivalent to pycocotools.
///
/// - `COCODataset`: annotation files (images, categories, annotations), validated.
/// - `COCOResults`: results files `[{"image_id","category_id","bbox","score"}]`, read and written.
/// - `COCOEvaluator` → `COCOEvaluation` → `COCOSummary` / `perCategory`: pycocotools'
///   `evaluate()`, `accumulate()` and `summarize()` with identical numbers.
public enum COCO {
    /// Loads both files and evaluates: the one-call path used by `detr evaluate`.
    /// - Returns: the evaluation plus both load reports (notes on tolerated input).
    public static func evaluate(
        annotations: URL, results: URL,
        annotationsName: String? = nil, resultsName: String? = nil,
        parameters: COCOEvalParameters = COCOEvalParameters()
    )
        throws -> (evaluation: COCOEvaluation, annotations: COCOLoadReport, results: COCOLoadReport)
    {
        let dataset = try COCODataset(contentsOf: annotations, displayName: annotationsName)
        let loaded = try COCOResults(contentsOf: results, displayName: resultsName, dataset: dataset)
        let evaluation = try COCOEvaluator.evaluate(
            dataset: dataset, detections: loaded.detections, parameters: parameters)
        return (evaluation, dataset.report, loaded.report)
    }
}
