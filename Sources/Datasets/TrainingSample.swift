import Detection
import Torch
import Vision

/// One decoded training image with its ground truth, before or after augmentation.
public struct TrainingSample: Sendable, Equatable {
    /// The COCO image id.
    public var imageId: Int
    /// RGB pixels (the stored orientation; EXIF is not applied, as annotations refer to it).
    public var image: Image
    /// Boxes in pixels of `image`, one per label.
    public var boxes: [PixelBox]
    /// Category ids, used directly as classifier columns.
    public var labels: [Int]
    /// (h, w) of the image as decoded, before any augmentation.
    public var originalSize: (height: Int, width: Int)

    public init(
        imageId: Int, image: Image, boxes: [PixelBox], labels: [Int],
        originalSize: (height: Int, width: Int)? = nil
    ) {
        precondition(boxes.count == labels.count, "TrainingSample: \(boxes.count) boxes for \(labels.count) labels")
        self.imageId = imageId
        self.image = image
        self.boxes = boxes
        self.labels = labels
        self.originalSize = originalSize ?? (image.height, image.width)
    }

    public static func == (a: TrainingSample, b: TrainingSample) -> Bool {
        a.imageId == b.imageId && a.image == b.image && a.boxes == b.boxes && a.labels == b.labels
            && a.originalSize == b.originalSize
    }

    /// Keeps the boxes (and their labels) for which `keep` is true.
    public mutating func filterBoxes(_ keep: (PixelBox) -> Bool) {
        var boxes: [PixelBox] = [], labels: [Int] = []
        for (box, label) in zip(self.boxes, self.labels) where keep(box) {
            boxes.append(box)
            labels.append(label)
        }
        self.boxes = boxes
        self.labels = labels
    }

    /// The ground truth as the criteria consume it: labels int64 [N] and boxes cxcywh [N, 4]
    /// normalised by the current (augmented, unpadded) image size — DETR's `Normalize` step.
    public func detectionTarget() -> DetectionTarget {
        let w = Float(image.width), h = Float(image.height)
        var values: [Float] = []
        values.reserveCapacity(boxes.count * 4)
        for b in boxes {
            // box_xyxy_to_cxcywh, then / [w, h, w, h] (float32 throughout).
            values += [(b.x0 + b.x1) / 2 / w, (b.y0 + b.y1) / 2 / h, (b.x1 - b.x0) / w, (b.y1 - b.y0) / h]
        }
        return DetectionTarget(
            labels: Tensor(labels.map(Int64.init), shape: [labels.count]),
            boxes: Tensor(values, shape: [boxes.count, 4]))
    }
}
