/// The accumulated result of a bbox evaluation: pycocotools' `eval['precision']`,
/// `eval['recall']` and `eval['scores']`, with its summary and per-category metrics.
///
/// Arrays are flat in C order with pycocotools' axes: precision and scores
/// `[T, R, K, A, M]`, recall `[T, K, A, M]` (T IoU thresholds, R recall thresholds,
/// K categories — one slot, id -1, with `useCategories == false` — A area ranges,
/// M maxDets). -1 marks settings without counted ground truth.
public struct COCOEvaluation: Sendable {
    /// The parameters as evaluated (ids sorted and unique, maxDets sorted).
    public let parameters: COCOEvalParameters
    /// Category id of each K slot.
    public let categoryIds: [Int]
    /// Category name of each K slot ("all" without categories).
    public let categoryNames: [String]
    public let precision: [Double]
    public let recall: [Double]
    public let scores: [Double]
    /// (T, R, K, A, M).
    public let shape: (T: Int, R: Int, K: Int, A: Int, M: Int)

    init(
        parameters: COCOEvalParameters, categoryIds: [Int], categoryNames: [String],
        precision: [Double], recall: [Double], scores: [Double], shape: (Int, Int, Int, Int, Int)
    ) {
        self.parameters = parameters
        self.categoryIds = categoryIds
        self.categoryNames = categoryNames
        self.precision = precision
        self.recall = recall
        self.scores = scores
        self.shape = (shape.0, shape.1, shape.2, shape.3, shape.4)
    }

    public func precision(t: Int, r: Int, k: Int, a: Int, m: Int) -> Double {
        precision[(((t * shape.R + r) * shape.K + k) * shape.A + a) * shape.M + m]
    }

    public func recall(t: Int, k: Int, a: Int, m: Int) -> Double {
        recall[((t * shape.K + k) * shape.A + a) * shape.M + m]
    }

    /// Mean of the precision (`ap: true`) or recall entries selected like pycocotools'
    /// `_summarize`: IoU threshold `iou` (nil: all; a value not among the thresholds
    /// selects nothing), all categories in `categories` (nil: all), area label, maxDets
    /// value; entries equal to -1 are excluded, and -1 is returned when none remain. The
    /// mean is numpy's (pairwise summation in numpy's element order): bit-identical.
    public func mean(
        ap: Bool, iou: Double? = nil, area: String = "all", maxDets: Int,
        categories: [Int]? = nil
    ) -> Double {
        guard let a = parameters.areaRanges.firstIndex(where: { $0.label == area }),
            let m = parameters.maxDetections.firstIndex(of: maxDets)
        else { return -1 }
        let thresholds = (0..<shape.T).filter { iou == nil || parameters.iouThresholds[$0] == iou }
        let slots = categories ?? Array(0..<shape.K)
        // Same element order as numpy's boolean selection: t, then r, then k.
        var selected: [Double] = []
        for t in thresholds {
            if ap {
                for r in 0..<shape.R {
                    for k in slots {
                        let value = precision(t: t, r: r, k: k, a: a, m: m)
                        if value > -1 { selected.append(value) }
                    }
                }
            } else {
                for k in slots {
                    let value = recall(t: t, k: k, a: a, m: m)
                    if value > -1 { selected.append(value) }
                }
            }
        }
        return selected.isEmpty ? -1 : PairwiseSum.sum(selected) / Double(selected.count)
    }
}
