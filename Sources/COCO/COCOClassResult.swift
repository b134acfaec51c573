/// One category's line of an evaluation report: AP over the IoU thresholds, at IoU 0.5 and
/// 0.75, and per object size, with the number of ground-truth boxes behind it.
///
/// Every AP is read from the evaluation's precision array exactly as the summary reads it
/// (`COCOEvaluation.mean`): the category's slot, the largest maxDets value, area "all" or the
/// small / medium / large range; -1 where the category has no counted ground truth in that
/// range (or the range or threshold is not evaluated).
public struct COCOClassResult: Sendable, Equatable {
    public let categoryId: Int
    public let name: String
    public let ap: Double
    public let ap50: Double
    public let ap75: Double
    public let apSmall: Double
    public let apMedium: Double
    public let apLarge: Double
    /// Ground-truth boxes that count in the evaluation: the category's annotations on the
    /// evaluated images that are not crowd regions, whatever their area (pycocotools' number of
    /// non-ignored ground truths at area "all", the denominator of recall). Crowd regions only
    /// excuse detections and are not counted.
    public let groundTruthCount: Int

    /// Whether the category has counted ground truth (its AP is defined).
    public var isDefined: Bool { ap > -1 }
}

extension COCOEvaluation {
    /// One result per evaluated category, in the evaluation's category order (ascending ids;
    /// one "all" entry, id -1, when categories are not used). `dataset` must be the one
    /// evaluated: the ground-truth counts come from its annotations.
    public func classResults(dataset: COCODataset) -> [COCOClassResult] {
        let maxDets = parameters.maxDetections.last!
        let evaluated = Set(parameters.imageIds ?? dataset.imageIds)
        let allowed = Set(parameters.categoryIds ?? dataset.categoryIds)
        var counts: [Int: Int] = [:]
        for a in dataset.annotations where !a.isCrowd && evaluated.contains(a.imageId) {
            if parameters.useCategories {
                counts[a.categoryId, default: 0] += 1
            } else if allowed.contains(a.categoryId) {
                counts[-1, default: 0] += 1
            }
        }
        return (0..<shape.K).map { k in
            func ap(_ iou: Double? = nil, _ area: String = "all") -> Double {
                mean(ap: true, iou: iou, area: area, maxDets: maxDets, categories: [k])
            }
            return COCOClassResult(
                categoryId: categoryIds[k], name: categoryNames[k], ap: ap(), ap50: ap(0.5), ap75: ap(0.75),
                apSmall: ap(nil, "small"), apMedium: ap(nil, "medium"), apLarge: ap(nil, "large"),
                groundTruthCount: counts[categoryIds[k]] ?? 0)
        }
    }
}

extension Array where Element == COCOClassResult {
    /// Worst first: ascending AP, categories without ground truth (AP -1) last, ties by id.
    public var worstFirst: [COCOClassResult] {
        sorted { a, b in
            if a.isDefined != b.isDefined { return a.isDefined }
            if a.ap != b.ap { return a.ap < b.ap }
            return a.categoryId < b.categoryId
        }
    }
}
