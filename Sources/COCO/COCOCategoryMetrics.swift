/// AP and AR of one category: area "all", the largest maxDets value, -1 where the
/// category has no counted ground truth (such categories are left out of the means).
public struct COCOCategoryMetrics: Sendable, Equatable {
    public let categoryId: Int
    public let name: String
    /// AP averaged over the IoU thresholds.
    public let ap: Double
    /// AP at IoU 0.5 and 0.75 (-1 when that threshold is not evaluated).
    public let ap50: Double
    public let ap75: Double
    /// AR averaged over the IoU thresholds.
    public let ar: Double
}

extension COCOEvaluation {
    /// Per-category metrics in category-id order (one "all" entry without categories).
    public var perCategory: [COCOCategoryMetrics] {
        let maxDets = parameters.maxDetections.last!
        return (0..<shape.K).map { k in
            COCOCategoryMetrics(
                categoryId: categoryIds[k], name: categoryNames[k],
                ap: mean(ap: true, maxDets: maxDets, categories: [k]),
                ap50: mean(ap: true, iou: 0.5, maxDets: maxDets, categories: [k]),
                ap75: mean(ap: true, iou: 0.75, maxDets: maxDets, categories: [k]),
                ar: mean(ap: false, maxDets: maxDets, categories: [k]))
        }
    }

    /// The standard summary (throws with fewer than three maxDets values).
    public func summary() throws -> COCOSummary { try COCOSummary(self) }
}
