/// Box overlap exactly as pycocotools' `maskApi.c` `bbIou` computes it, operation for
/// operation in float64, so that IoUs sitting exactly on a threshold match identically.
enum BoxIoU {
    /// IoU of detection `d` with ground truth `g`; for a crowd ground truth the denominator is
    /// the detection's own area (the fraction of the detection inside the crowd region).
    @inline(__always)
    static func iou(_ d: COCOBox, _ g: COCOBox, crowd: Bool) -> Double {
        let w = min(d.width + d.x, g.width + g.x) - max(d.x, g.x)
        if w <= 0 { return 0 }
        let h = min(d.height + d.y, g.height + g.y) - max(d.y, g.y)
        if h <= 0 { return 0 }
        let intersection = w * h
        let detectionArea = d.width * d.height
        let union = crowd ? detectionArea : detectionArea + g.width * g.height - intersection
        return intersection / union
    }
}
