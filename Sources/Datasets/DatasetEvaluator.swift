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
        model: any Detector, imagesDirectory: URL, annotations: URL, batchSize: Int,
        device: Device = .cpu, precision: Precision = .fp32, workers: Int = 2,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> DatasetEvaluation {
        let coco = try COCODataset(contentsOf: annotations)
        let (detections, skipped) = try detect(
            model: model, imagesDirectory: imagesDirectory, coco: coco,
            annotationName: annotations.lastPathComponent, batchSize: batchSize,
            device: device, precision: precision, workers: workers, progress: progress)
        let evaluation = try COCOEvaluator.evaluate(dataset: coco, detections: detections)
        return DatasetEvaluation(
            evaluation: evaluation, summary: try COCOSummary(evaluation), detections: detections,
            skipped: skipped)
    }

    /// The detector's COCO detections for every image of `coco` (categories it does not define are
    /// dropped, as pycocotools ignores them), and the images that could not be read. Images run in
    /// ascending id order, so the detections come in that order.
    /// - Parameter shard: only this process's batches of a data-parallel evaluation (batch
    ///   `rank`, `rank + count`, ... of those one process would run; the same batches, so the same
    ///   detections)
    public static func detect(
        model: any Detector, imagesDirectory: URL, coco: COCODataset, annotationName: String,
        batchSize: Int, device: Device = .cpu, precision: Precision = .fp32, workers: Int = 2,
        shard: DataShard? = nil,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> (detections: [COCODetection], skipped: [String]) {
        let data = try COCODetectionDataset(
            imagesDirectory: imagesDirectory, coco: coco,
            annotationName: annotationName,
            skipImagesWithoutAnnotations: false)
        let recipe = model.config.recipe
        let transform = recipe.evalTransform
        let loader = try DataLoader(
            source: data, transform: .eval(transform), batchSize: batchSize, shuffle: false,
            sizeDivisor: transform.sizeDivisor, workers: workers,
            unreadableImages: .skip, aspectRatioBoundaries: [])
        let post = recipe.postProcess
        let known = Set(coco.categoryIds)
        var detections: [COCODetection] = []
        var done = 0
        let batches = loader.epoch(0, roundRobin: shard)
        while let b = try batches.next() {
            let batch = b.images.to(device)
            let out = withNoGrad { model(batch, options: ForwardOptions(precision: precision)) }
            let dets = post.detections(
                logits: out.final.logits, boxes: out.final.boxes,
                originalSizes: batch.originalSizes)
            for (imageId, list) in zip(b.imageIds, dets) {
                for d in list where known.contains(d.label) {
                    let box = COCOBox(
                        x: Double(d.box[0]), y: Double(d.box[1]),
                        width: Double(d.box[2] - d.box[0]), height: Double(d.box[3] - d.box[1]))
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
