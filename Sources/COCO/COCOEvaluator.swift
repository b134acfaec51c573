import Dispatch
import Foundation

/// Bbox evaluation equivalent to pycocotools' `COCOeval(gt, dt, 'bbox')` followed by
/// `evaluate()` and `accumulate()`: same matching rules, tie-breaking and quirks, so the
/// precision and recall arrays equal pycocotools' (see `COCOEvaluation`).
///
/// Work is split over both phases with `DispatchQueue.concurrentPerform`: matching over
/// chunks of (category, image) cells, accumulation over categories. Every
/// value is computed by exactly one task from the same inputs, so results do not depend
/// on the number of threads.
public enum COCOEvaluator {
    /// Evaluates `detections` against `dataset`. Detections of images or categories outside
    /// the evaluated ones are not used (as in pycocotools); `COCOResults` reports them.
    /// - Parameter parallel: false runs everything on the calling thread.
    public static func evaluate(
        dataset: COCODataset, detections: [COCODetection],
        parameters: COCOEvalParameters = COCOEvalParameters(),
        parallel: Bool = true
    ) throws -> COCOEvaluation {
        try parameters.validate()
        if let bad = detections.firstIndex(where: { d in
            !(d.score.isFinite && d.box.x.isFinite && d.box.y.isFinite && d.box.width.isFinite && d.box.height.isFinite)
        }) {
            throw COCOError(.invalidValue, file: nil, "detection at index \(bad) has a non-finite score or box")
        }
        var resolved = parameters
        resolved.imageIds = Array(Set(parameters.imageIds ?? dataset.imageIds)).sorted()
        if parameters.useCategories {
            resolved.categoryIds = Array(Set(parameters.categoryIds ?? dataset.categoryIds)).sorted()
        } else {
            // pycocotools keeps this list as given when useCats = 0: its order decides
            // the order of ground truths and detections (and so score ties).
            var seen = Set<Int>()
            resolved.categoryIds = (parameters.categoryIds ?? dataset.categoryIds).filter { seen.insert($0).inserted }
        }
        resolved.maxDetections = parameters.maxDetections.sorted()
        let imageIds = resolved.imageIds!, categoryIds = resolved.categoryIds!

        let input = EvaluationInput(
            dataset: dataset, detections: detections, imageIds: imageIds,
            categoryIds: categoryIds, useCategories: parameters.useCategories,
            maxDetections: resolved.maxDetections.last!)
        let A = parameters.areaRanges.count, T = parameters.iouThresholds.count
        let layout = Accumulator.Layout(
            T: T, R: parameters.recallThresholds.count, K: input.categoryCount,
            A: A, M: resolved.maxDetections.count)

        // Phase 1: match every cell.
        // (At least one element each, so that their buffers always have a base address.)
        var outcome = [UInt8](repeating: CellMatcher.ignored, count: max(1, A * T * input.dtBox.count))
        var nonIgnored = [Int32](repeating: 0, count: max(1, input.cellCount * A))
        let chunks = cellChunks(input, parts: parallel ? 8 * ProcessInfo.processInfo.activeProcessorCount : 1)
        outcome.withUnsafeMutableBufferPointer { outcomeBuffer in
            nonIgnored.withUnsafeMutableBufferPointer { countBuffer in
                let outcomePointer = SharedPointer(outcomeBuffer.baseAddress!)
                let countPointer = SharedPointer(countBuffer.baseAddress!)
                let (thresholds, areas) = (parameters.iouThresholds, parameters.areaRanges)
                forEach(chunks.count, parallel: parallel) { chunk in
                    var matcher = CellMatcher(input: input, iouThresholds: thresholds, areaRanges: areas)
                    for cell in chunks[chunk] {
                        matcher.match(cell: cell, outcome: outcomePointer.base, nonIgnored: countPointer.base)
                    }
                }
            }
        }

        // Phase 2: accumulate per category, largest first (per (category, maxDets) pair
        // when there are too few categories to keep the cores busy).
        func detectionCount(_ k: Int) -> Int {
            input.dtStart[(k + 1) * input.imageCount] - input.dtStart[k * input.imageCount]
        }
        let categoriesBySize = (0..<layout.K).sorted { detectionCount($0) > detectionCount($1) }
        let tasks: [(k: Int, slots: [Int])] =
            layout.K >= 4 || !parallel
            ? categoriesBySize.map { ($0, Array(0..<layout.M)) }
            : categoriesBySize.flatMap { k in (0..<layout.M).map { (k, [$0]) } }
        let (precision, recall, scores) = accumulate(
            input, layout, tasks, maxDetections: resolved.maxDetections,
            recallThresholds: parameters.recallThresholds,
            outcome: &outcome, nonIgnored: &nonIgnored, parallel: parallel)
        return COCOEvaluation(
            parameters: resolved,
            categoryIds: parameters.useCategories ? categoryIds : [-1],
            categoryNames: parameters.useCategories
                ? categoryIds.map { id in dataset.category(id: id)?.name ?? "" } : ["all"],
            precision: precision, recall: recall, scores: scores,
            shape: (layout.T, layout.R, layout.K, layout.A, layout.M))
    }

    /// Runs the accumulation tasks; returns precision, recall and scores (-1 where unset).
    private static func accumulate(
        _ input: EvaluationInput, _ layout: Accumulator.Layout,
        _ tasks: [(k: Int, slots: [Int])], maxDetections: [Int], recallThresholds: [Double],
        outcome: inout [UInt8], nonIgnored: inout [Int32],
        parallel: Bool
    ) -> ([Double], [Double], [Double]) {
        let precisionCount = layout.T * layout.R * layout.K * layout.A * layout.M
        var precision = [Double](repeating: -1, count: precisionCount)
        var scores = [Double](repeating: -1, count: precisionCount)
        var recall = [Double](repeating: -1, count: layout.T * layout.K * layout.A * layout.M)
        guard !tasks.isEmpty else { return (precision, recall, scores) }
        precision.withUnsafeMutableBufferPointer { precisionBuffer in
            scores.withUnsafeMutableBufferPointer { scoresBuffer in
                recall.withUnsafeMutableBufferPointer { recallBuffer in
                    outcome.withUnsafeMutableBufferPointer { outcomeBuffer in
                        nonIgnored.withUnsafeMutableBufferPointer { countBuffer in
                            let p = SharedPointer(precisionBuffer.baseAddress!),
                                s = SharedPointer(scoresBuffer.baseAddress!)
                            let r = SharedPointer(recallBuffer.baseAddress!)
                            let o = SharedPointer(outcomeBuffer.baseAddress!),
                                c = SharedPointer(countBuffer.baseAddress!)
                            forEach(tasks.count, parallel: parallel) { task in
                                var accumulator = Accumulator(
                                    input: input, layout: layout, recallThresholds: recallThresholds)
                                accumulator.accumulate(
                                    k: tasks[task].k, slots: tasks[task].slots, maxDetections: maxDetections,
                                    outcome: o.base, nonIgnored: c.base,
                                    into: Accumulator.Outputs(precision: p.base, recall: r.base, scores: s.base))
                            }
                        }
                    }
                }
            }
        }
        return (precision, recall, scores)
    }

    /// Splits the cells into about `parts` contiguous ranges of similar matching work.
    private static func cellChunks(_ input: EvaluationInput, parts: Int) -> [Range<Int>] {
        let cells = input.cellCount
        guard parts > 1, cells > 1 else { return [0..<cells] }
        func work(_ cell: Int) -> Int {
            let g = input.gtStart[cell + 1] - input.gtStart[cell], d = input.dtStart[cell + 1] - input.dtStart[cell]
            return 1 + d * (g + 1) + g
        }
        var total = 0
        for cell in 0..<cells { total += work(cell) }
        let target = max(1, total / parts)
        var chunks: [Range<Int>] = []
        var start = 0, accumulated = 0
        for cell in 0..<cells {
            accumulated += work(cell)
            if accumulated >= target {
                chunks.append(start..<cell + 1)
                start = cell + 1
                accumulated = 0
            }
        }
        if start < cells { chunks.append(start..<cells) }
        return chunks
    }

    private static func forEach(_ count: Int, parallel: Bool, _ body: @Sendable (Int) -> Void) {
        if parallel && count > 1 {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        } else {
            for index in 0..<count { body(index) }
        }
    }
}

/// A raw pointer handed to parallel tasks that write disjoint elements.
struct SharedPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
}
