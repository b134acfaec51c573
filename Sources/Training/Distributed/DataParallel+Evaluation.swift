import COCO
import Datasets
import Detection
import Foundation
import Torch

extension DataParallel {
    /// Evaluation split between the processes: each runs its round-robin share of the batches one
    /// process would run (`DatasetEvaluator.detect` with a shard), rank 0 gathers every
    /// detection, puts them in the single process's order (ascending image id) and evaluates.
    /// - Returns: the evaluation on rank 0, nil on the other ranks
    public func evaluate(
        predictor: Predictor, imagesDirectory: URL, annotations: URL, format: AnnotationFormat? = nil,
        batchSize: Int, workers: Int
    ) throws -> DatasetEvaluation? {
        let coco = try DetectionAnnotations.load(annotations, images: imagesDirectory, format: format)
        let (detections, skipped) = try DatasetEvaluator.detect(
            predictor: predictor, imagesDirectory: imagesDirectory, coco: coco,
            annotationName: annotations.lastPathComponent, batchSize: batchSize, workers: workers,
            shard: DataShard(rank: rank, count: size))
        let parts = try allGather(Self.encode(detections, skipped: skipped))
        guard isMain else { return nil }
        var byImage: [Int: [COCODetection]] = [:]
        var allSkipped: [String] = []
        for part in parts {
            let (d, s) = Self.decode(part)
            for det in d { byImage[det.imageId, default: []].append(det) }
            allSkipped += s
        }
        let merged = byImage.keys.sorted().flatMap { byImage[$0]! }
        let evaluation = try COCOEvaluator.evaluate(dataset: coco, detections: merged)
        return DatasetEvaluation(
            evaluation: evaluation, summary: try COCOSummary(evaluation), detections: merged, skipped: allSkipped)
    }

    /// Count, then 7 float64 per detection (image id, category id, x, y, w, h, score), then the
    /// skipped images' messages, newline-separated UTF-8.
    static func encode(_ detections: [COCODetection], skipped: [String]) -> [UInt8] {
        var numbers: [Double] = [Double(detections.count)]
        numbers.reserveCapacity(1 + 7 * detections.count)
        for d in detections {
            numbers += [Double(d.imageId), Double(d.categoryId), d.box.x, d.box.y, d.box.width, d.box.height, d.score]
        }
        var bytes = numbers.withUnsafeBytes { Array($0) }
        bytes += Array(skipped.joined(separator: "\n").utf8)
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> (detections: [COCODetection], skipped: [String]) {
        guard bytes.count >= 8 else { return ([], []) }
        func number(_ i: Int) -> Double {
            bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8 * i, as: Double.self) }
        }
        let count = Int(number(0))
        var detections: [COCODetection] = []
        detections.reserveCapacity(count)
        for k in 0..<count {
            let v = (0..<7).map { number(1 + 7 * k + $0) }
            detections.append(
                COCODetection(
                    imageId: Int(v[0]), categoryId: Int(v[1]),
                    box: COCOBox(x: v[2], y: v[3], width: v[4], height: v[5]),
                    score: v[6]))
        }
        let tail = bytes[(8 * (1 + 7 * count))...]
        let skipped = tail.isEmpty ? [] : String(decoding: tail, as: UTF8.self).components(separatedBy: "\n")
        return (detections, skipped)
    }
}
