/// A precision-recall curve read from an evaluation's precision array: pycocotools'
/// interpolated precision at each recall threshold (0, 0.01, ..., 1 by default), averaged over
/// the selected categories (and IoU thresholds), area range and the largest maxDets value.
public struct COCOPrecisionCurve: Sendable, Equatable {
    /// The IoU threshold; nil: the mean over every evaluated threshold (0.50:0.95).
    public let iou: Double?
    /// The recall thresholds (x), ascending.
    public let recall: [Double]
    /// Precision at each recall threshold (y); 0 beyond the highest recall reached.
    public let precision: [Double]

    /// The mean of `precision`: the AP of the same selection (the summary's AP, AP50 or AP75
    /// for all categories; a category's AP for one).
    public var averagePrecision: Double { precision.reduce(0, +) / Double(Swift.max(1, precision.count)) }
}

extension COCOEvaluation {
    /// The curve at IoU threshold `iou` (nil: averaged over all thresholds; a value not among
    /// them selects nothing) for the category slots `categories` (nil: all), averaged over the
    /// entries that are not -1 at each recall threshold. nil when no entry is defined (no
    /// selected category has counted ground truth).
    public func precisionCurve(iou: Double?, categories: [Int]? = nil, area: String = "all") -> COCOPrecisionCurve? {
        guard let a = parameters.areaRanges.firstIndex(where: { $0.label == area }) else { return nil }
        let m = shape.M - 1
        let thresholds = (0..<shape.T).filter { iou == nil || parameters.iouThresholds[$0] == iou }
        let slots = categories ?? Array(0..<shape.K)
        var precision: [Double] = []
        precision.reserveCapacity(shape.R)
        for r in 0..<shape.R {
            var sum = 0.0, count = 0
            for t in thresholds {
                for k in slots {
                    let value = self.precision(t: t, r: r, k: k, a: a, m: m)
                    if value > -1 {
                        sum += value
                        count += 1
                    }
                }
            }
            guard count > 0 else { return nil }
            precision.append(sum / Double(count))
        }
        return COCOPrecisionCurve(iou: iou, recall: parameters.recallThresholds, precision: precision)
    }
}
