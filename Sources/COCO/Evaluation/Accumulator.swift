/// Precision/recall accumulation over images (pycocotools `accumulate`) for one category
/// slot: every maxDets value, area range and IoU threshold.
///
/// For each maxDets value the category's detections (the first `maxDet` of every image,
/// images in ascending id order) are stably sorted by descending score, exactly like
/// pycocotools' `np.argsort(-dtScores, kind='mergesort')` over the concatenated per-image
/// lists. Cumulative true/false positives give recall `tp / npig` and precision
/// `tp / (tp + fp + eps)`; precision is made monotone from the right, and the curve is
/// read at the first detection whose recall reaches each recall threshold
/// (`searchsorted(side='left')`; 0 from the first threshold past the end on).
///
/// The sort is done once, for the largest maxDets: a smaller limit keeps a subsequence
/// (detections ranked below it in their image) in the same relative order.
struct Accumulator {
    /// Output layout: precision and scores [T, R, K, A, M], recall [T, K, A, M] (C order).
    struct Layout: Sendable {
        let T: Int, R: Int, K: Int, A: Int, M: Int
        func precisionIndex(t: Int, r: Int, k: Int, a: Int, m: Int) -> Int { (((t * R + r) * K + k) * A + a) * M + m }
        func recallIndex(t: Int, k: Int, a: Int, m: Int) -> Int { ((t * K + k) * A + a) * M + m }
    }

    /// Where results go; every task writes disjoint entries.
    struct Outputs {
        let precision: UnsafeMutablePointer<Double>
        let recall: UnsafeMutablePointer<Double>
        let scores: UnsafeMutablePointer<Double>
    }

    let input: EvaluationInput
    let layout: Layout
    let recallThresholds: [Double]
    // Scratch.
    private var entries: [(score: Double, position: Int, detection: Int, rank: Int)] = []
    private var sorted: [Int] = []
    private var truePositivePosition: [Int] = []
    private var truePositivePrecision: [Double] = []

    init(input: EvaluationInput, layout: Layout, recallThresholds: [Double]) {
        self.input = input
        self.layout = layout
        self.recallThresholds = recallThresholds
    }

    /// Fills the entries of category slot `k` for the maxDets slots `slots`
    /// (`maxDetections[m]` for m in `slots`); settings without counted ground truth stay -1.
    mutating func accumulate(
        k: Int, slots: [Int], maxDetections: [Int], outcome: UnsafeMutablePointer<UInt8>,
        nonIgnored: UnsafeMutablePointer<Int32>, into out: Outputs
    ) {
        let I = input.imageCount
        let largest = slots.map { maxDetections[$0] }.max() ?? 0
        entries.removeAll(keepingCapacity: true)
        for i in 0..<I {
            let start = input.dtStart[k * I + i]
            let end = min(input.dtStart[k * I + i + 1], start + largest)
            for n in start..<end { entries.append((input.dtScore[n], entries.count, n, n - start)) }
        }
        entries.sort { $0.score != $1.score ? $0.score > $1.score : $0.position < $1.position }
        let counted = (0..<layout.A).map { a in
            (0..<I).reduce(0) { $0 + Int(nonIgnored[(k * I + $1) * layout.A + a]) }
        }
        for m in slots {
            let maxDet = maxDetections[m]
            sorted.removeAll(keepingCapacity: true)
            for entry in entries where entry.rank < maxDet { sorted.append(entry.detection) }
            for a in 0..<layout.A where counted[a] > 0 {
                for t in 0..<layout.T {
                    curve(k: k, a: a, t: t, m: m, npig: counted[a], outcome: outcome, into: out)
                }
            }
        }
    }

    /// One precision/recall curve over `sorted`.
    private mutating func curve(
        k: Int, a: Int, t: Int, m: Int, npig: Int,
        outcome: UnsafeMutablePointer<UInt8>, into out: Outputs
    ) {
        let row = outcome + (a * layout.T + t) * input.dtBox.count
        let nd = sorted.count
        let eps = Double.ulpOfOne  // np.spacing(1)
        // Only true positives raise precision, so the right-to-left maximum over positions
        // >= p is the maximum over the true positives from p on: record each true
        // positive's position and precision (computed exactly as pycocotools does there).
        truePositivePosition.removeAll(keepingCapacity: true)
        truePositivePrecision.removeAll(keepingCapacity: true)
        var tp = 0, fp = 0
        for j in 0..<nd {
            let result = row[sorted[j]]
            if result == CellMatcher.truePositive {
                tp += 1
                truePositivePosition.append(j)
                truePositivePrecision.append(Double(tp) / (Double(fp) + Double(tp) + eps))
            } else if result == CellMatcher.falsePositive {
                fp += 1
            }
        }
        out.recall[layout.recallIndex(t: t, k: k, a: a, m: m)] = nd > 0 ? Double(tp) / Double(npig) : 0
        var running = 0.0
        for index in stride(from: tp - 1, through: 0, by: -1) {
            running = max(running, truePositivePrecision[index])
            truePositivePrecision[index] = running
        }
        var r = 0
        while r < recallThresholds.count {
            // The first position whose recall reaches the threshold holds the needed-th true
            // positive (position 0 when none is needed); past the end, pycocotools stops.
            guard nd > 0, let needed = Self.minimumCount(reaching: recallThresholds[r], of: npig), needed <= tp else {
                break
            }
            let p = needed == 0 ? 0 : truePositivePosition[needed - 1]
            let best = tp == 0 ? 0 : truePositivePrecision[max(needed - 1, 0)]
            let index = layout.precisionIndex(t: t, r: r, k: k, a: a, m: m)
            out.precision[index] = best
            out.scores[index] = input.dtScore[sorted[p]]
            r += 1
        }
        while r < recallThresholds.count {
            let index = layout.precisionIndex(t: t, r: r, k: k, a: a, m: m)
            out.precision[index] = 0
            out.scores[index] = 0
            r += 1
        }
    }

    /// The smallest count c in 0...total with `Double(c) / Double(total) >= threshold`
    /// (the float division pycocotools' recall uses), nil if there is none.
    static func minimumCount(reaching threshold: Double, of total: Int) -> Int? {
        let denominator = Double(total)
        var c = Int(min(max((threshold * denominator).rounded(.up), 0), denominator))
        while c > 0 && Double(c - 1) / denominator >= threshold { c -= 1 }
        while c <= total && Double(c) / denominator < threshold { c += 1 }
        return c <= total ? c : nil
    }
}
