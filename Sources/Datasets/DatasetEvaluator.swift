import COCO
import Detection
import Foundation
import Torch
import Vision

/// Detections of a detector over a COCO-format dataset, evaluated like pycocotools.
public struct DatasetEvaluation: Sendable {
    public var evaluation: COCOEvaluation
    public var summary: COCOSummary
    public var detections: [COCODetection]
    /// Images that could not be read (skipped, named in the messages).
    public var skipped: [String]

    public init(evaluation: COCOEvaluation, summary: COCOSummary, detections: [COCODetection], skipped: [String]) {
        self.evaluation = evaluation
        self.summary = summary
        self.detections = detections
        self.skipped = skipped
    }
}

/// Runs a detector over every image of an annotation file and evaluates it with `COCOEvaluator`.
public enum DatasetEvaluator {
    /// - Parameters:
    ///   - batchSize: images per forward pass, in annotation-file order (padding as the official evaluation pads).
    ///   - progress: called after each batch with (images done, total).
    public static func run(
        predictor: Predictor, imagesDirectory: URL, annotations: URL, format: AnnotationFormat? = nil,
        batchSize: Int, workers: Int = 2, progress: ((Int, Int) -> Void)? = nil
    ) throws -> DatasetEvaluation {
        let coco = try DetectionAnnotations.load(annotations, images: imagesDirectory, format: format)
        let (detections, skipped) = try detect(
            predictor: predictor, imagesDirectory: imagesDirectory, coco: coco,
            annotationName: annotations.lastPathComponent, batchSize: batchSize, workers: workers,
            progress: progress)
        let evaluation = try COCOEvaluator.evaluate(dataset: coco, detections: detections)
        return DatasetEvaluation(
            evaluation: evaluation, summary: try COCOSummary(evaluation), detections: detections,
            skipped: skipped)
    }

    /// The detector's COCO detections for every image of `coco` (the top `num_select` of each, as
    /// the official evaluation keeps; categories it does not define are dropped, as pycocotools
    /// ignores them), and the images that could not be read. Images run in ascending id order, so
    /// the detections come in that order.
    /// - Parameter shard: only this process's batches of a data-parallel evaluation (batch
    ///   `rank`, `rank + count`, ... of those one process would run; the same batches, so the same
    ///   detections)
    public static func detect(
        predictor: Predictor, imagesDirectory: URL, coco: COCODataset, annotationName: String,
        batchSize: Int, workers: Int = 2, shard: DataShard? = nil,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> (detections: [COCODetection], skipped: [String]) {
        let data = try COCODetectionDataset(
            imagesDirectory: imagesDirectory, coco: coco,
            annotationName: annotationName,
            skipImagesWithoutAnnotations: false)
        let transform = predictor.transform
        let loader = try DataLoader(
            source: data, transform: .eval(transform), batchSize: batchSize, shuffle: false,
            sizeDivisor: transform.sizeDivisor, workers: workers,
            unreadableImages: .skip, aspectRatioBoundaries: [])
        let known = Set(coco.categoryIds)
        var detections: [COCODetection] = []
        var done = 0
        let batches = loader.epoch(0, roundRobin: shard)
        while let b = try batches.next() {
            let output = predictor.forward(b.images)
            let dets = predictor.detections(of: output, in: b.images, options: [DetectionOptions()])
            for (imageId, list) in zip(b.imageIds, dets) {
                for d in list where known.contains(d.label) {
                    let box = COCOBox(
                        x: Double(d.box.x0), y: Double(d.box.y0),
                        width: Double(d.box.x1 - d.box.x0), height: Double(d.box.y1 - d.box.y0))
                    detections.append(
                        COCODetection(imageId: imageId, categoryId: d.label, box: box, score: Double(d.score)))
                }
            }
            done += b.imageIds.count
            progress?(done, data.count)
        }
        return (detections, batches.skippedImages.map { "\($0)" })
    }
}
