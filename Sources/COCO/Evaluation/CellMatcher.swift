/// Per-image, per-category matching (pycocotools `evaluateImg`) for every area range and
/// IoU threshold.
///
/// Results go to flat buffers shared by all cells (each cell owns a disjoint slice), so
/// cells can be matched in parallel:
/// - `outcome[(a * T + t) * N + n]` for detection n (of N) at area range a and threshold t:
///   `truePositive`, `falsePositive` or `ignored`;
/// - `nonIgnored[cell * A + a]`: ground truths that count at area range a.
struct CellMatcher {
    static let ignored: UInt8 = 0
    static let truePositive: UInt8 = 1
    static let falsePositive: UInt8 = 2

    private let input: EvaluationInput
    private let thresholds: [Double]
    private let areaRanges: [COCOEvalParameters.AreaRange]
    // Scratch, reused from cell to cell.
    private var ious: [Double] = []
    private var order: [Int] = []
    private var gtIgnore: [Bool] = []
    private var gtMatched: [Bool] = []
    private var dtOutside: [Bool] = []

    init(input: EvaluationInput, iouThresholds: [Double], areaRanges: [COCOEvalParameters.AreaRange]) {
        self.input = input
        // A match needs IoU >= t, and at most 1 - 1e-10 (pycocotools' `min([t, 1-1e-10])`).
        self.thresholds = iouThresholds.map { min($0, 1 - 1e-10) }
        self.areaRanges = areaRanges
    }

    /// Matches one cell and writes its outcomes and non-ignored counts.
    mutating func match(cell: Int, outcome: UnsafeMutablePointer<UInt8>, nonIgnored: UnsafeMutablePointer<Int32>) {
        let gtRange = input.gtStart[cell]..<input.gtStart[cell + 1]
        let dtRange = input.dtStart[cell]..<input.dtStart[cell + 1]
        let areaCount = areaRanges.count, thresholdCount = thresholds.count
        let total = input.dtBox.count
        let G = gtRange.count, D = dtRange.count
        if G == 0 && D == 0 { return }

        ious.removeAll(keepingCapacity: true)
        for d in dtRange {
            let box = input.dtBox[d]
            for g in gtRange { ious.append(BoxIoU.iou(box, input.gtBox[g], crowd: input.gtCrowd[g])) }
        }
        if gtIgnore.count < G {
            gtIgnore = Array(repeating: false, count: G)
            gtMatched = gtIgnore
        }
        if dtOutside.count < D { dtOutside = Array(repeating: false, count: D) }

        for (a, range) in areaRanges.enumerated() {
            var counted: Int32 = 0
            order.removeAll(keepingCapacity: true)
            for g in 0..<G {
                let ignore =
                    input.gtCrowd[gtRange.lowerBound + g] || !range.contains(input.gtArea[gtRange.lowerBound + g])
                gtIgnore[g] = ignore
                if !ignore { order.append(g); counted += 1 }
            }
            for g in 0..<G where gtIgnore[g] { order.append(g) }  // ignored last, stable
            nonIgnored[cell * areaCount + a] = counted
            for d in 0..<D { dtOutside[d] = !range.contains(input.dtBox[dtRange.lowerBound + d].area) }

            for (t, threshold) in thresholds.enumerated() {
                let row = outcome + (a * thresholdCount + t) * total + dtRange.lowerBound
                for g in 0..<G { gtMatched[g] = false }
                for d in 0..<D {
                    var best = threshold
                    var m = -1
                    for g in order {
                        let crowd = input.gtCrowd[gtRange.lowerBound + g]
                        if gtMatched[g] && !crowd { continue }
                        // Matched a counted ground truth; the rest are ignored ones.
                        if m >= 0 && !gtIgnore[m] && gtIgnore[g] { break }
                        let value = ious[d * G + g]
                        if value < best { continue }
                        best = value
                        m = g
                    }
                    var ignore = false
                    var matched = false
                    if m >= 0 {
                        gtMatched[m] = true
                        ignore = gtIgnore[m]
                        // pycocotools stores the matched annotation id and tests it for != 0.
                        matched = input.gtId[gtRange.lowerBound + m] != 0
                    }
                    if !matched && dtOutside[d] { ignore = true }
                    row[d] = ignore ? Self.ignored : matched ? Self.truePositive : Self.falsePositive
                }
            }
        }
    }
}
