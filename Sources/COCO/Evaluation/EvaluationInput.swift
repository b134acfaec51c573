/// Ground truths and detections arranged for evaluation: one cell per (category slot k,
/// image slot i), cell index `k * imageCount + i`, each cell's entries contiguous.
///
/// Order inside a cell reproduces pycocotools exactly, because score ties and equal IoUs
/// are broken by position:
/// - ground truths in file order (with `useCats = 0`: grouped by category in the order
///   of `categoryIds`, file order within a category);
/// - detections the same way, then stably sorted by descending score and cut to the
///   largest maxDets (`computeIoU` / `evaluateImg`).
struct EvaluationInput: Sendable {
    let categoryCount: Int
    let imageCount: Int
    var cellCount: Int { categoryCount * imageCount }

    /// Ground truths, cell by cell; `gtStart[c]..<gtStart[c + 1]` belong to cell c.
    var gtStart: [Int]
    var gtBox: [COCOBox] = []
    var gtArea: [Double] = []
    var gtCrowd: [Bool] = []
    /// Annotation id: pycocotools records matches by id, so a match to id 0 reads as "unmatched".
    var gtId: [Int] = []

    /// Detections, cell by cell, each cell sorted by score (highest first) and truncated.
    var dtStart: [Int]
    var dtBox: [COCOBox] = []
    var dtScore: [Double] = []

    init(
        dataset: COCODataset, detections: [COCODetection], imageIds: [Int], categoryIds: [Int],
        useCategories: Bool, maxDetections: Int
    ) {
        imageCount = imageIds.count
        categoryCount = useCategories ? categoryIds.count : 1
        let cells = categoryCount * imageCount
        var imageSlot = [Int: Int](minimumCapacity: imageIds.count)
        for (slot, id) in imageIds.enumerated() { imageSlot[id] = slot }
        var categoryRank = [Int: Int](minimumCapacity: categoryIds.count)
        for (rank, id) in categoryIds.enumerated() { categoryRank[id] = rank }

        // Cell and category rank of each entry (nil: not evaluated).
        func place(image: Int, category: Int) -> (cell: Int, rank: Int)? {
            guard let slot = imageSlot[image], let rank = categoryRank[category] else { return nil }
            return ((useCategories ? rank : 0) * imageIds.count + slot, rank)
        }
        let gtOrder = Self.bucket(
            dataset.annotations.map { place(image: $0.imageId, category: $0.categoryId) },
            cells: cells, ranks: categoryIds.count, byRank: !useCategories)
        gtStart = gtOrder.start
        gtBox.reserveCapacity(gtOrder.order.count)
        for index in gtOrder.order {
            let annotation = dataset.annotations[index]
            gtBox.append(annotation.box)
            gtArea.append(annotation.area)
            gtCrowd.append(annotation.isCrowd)
            gtId.append(annotation.id)
        }

        let dtOrder = Self.bucket(
            detections.map { place(image: $0.imageId, category: $0.categoryId) },
            cells: cells, ranks: categoryIds.count, byRank: !useCategories)
        dtStart = [Int](repeating: 0, count: cells + 1)
        dtBox.reserveCapacity(dtOrder.order.count)
        dtScore.reserveCapacity(dtOrder.order.count)
        var cellEntries: [Int] = []
        for cell in 0..<cells {
            dtStart[cell] = dtBox.count
            let range = dtOrder.start[cell]..<dtOrder.start[cell + 1]
            guard !range.isEmpty else { continue }
            cellEntries.removeAll(keepingCapacity: true)
            cellEntries.append(contentsOf: dtOrder.order[range])
            // Stable sort by descending score: ties keep their position (np.argsort mergesort).
            cellEntries.sortByDescendingScore { detections[$0].score }
            for index in cellEntries.prefix(maxDetections) {
                dtBox.append(detections[index].box)
                dtScore.append(detections[index].score)
            }
        }
        dtStart[cells] = dtBox.count
    }

    /// Stable counting sort of entry indices by cell (and, first, by category rank).
    /// - Returns: `order` (entry indices, cell by cell) and `start` ([cells + 1] offsets).
    private static func bucket(
        _ places: [(cell: Int, rank: Int)?], cells: Int, ranks: Int,
        byRank: Bool
    ) -> (order: [Int], start: [Int]) {
        var input = Array(places.indices.filter { places[$0] != nil })
        if byRank {
            input = countingSort(input, buckets: ranks) { places[$0]!.rank }.order
        }
        return countingSort(input, buckets: cells) { places[$0]!.cell }
    }

    private static func countingSort(_ items: [Int], buckets: Int, key: (Int) -> Int) -> (order: [Int], start: [Int]) {
        var start = [Int](repeating: 0, count: buckets + 1)
        for item in items { start[key(item) + 1] += 1 }
        for b in 0..<buckets { start[b + 1] += start[b] }
        var next = start
        var order = [Int](repeating: 0, count: items.count)
        for item in items {
            let b = key(item)
            order[next[b]] = item
            next[b] += 1
        }
        return (order, start)
    }
}

extension Array where Element == Int {
    /// Sorts positions by descending `score`, keeping the current order among equal
    /// scores (a stable sort, like `np.argsort(-scores, kind='mergesort')`).
    mutating func sortByDescendingScore(_ score: (Int) -> Double) {
        if count < 2 { return }
        if count <= 16 {  // insertion sort: stable and fast for the typical handful
            for i in 1..<count {
                let item = self[i]
                let value = score(item)
                var j = i
                while j > 0, score(self[j - 1]) < value {
                    self[j] = self[j - 1]
                    j -= 1
                }
                self[j] = item
            }
            return
        }
        let keyed = enumerated().map { (position: $0.offset, item: $0.element, score: score($0.element)) }
        self = keyed.sorted { $0.score != $1.score ? $0.score > $1.score : $0.position < $1.position }.map(\.item)
    }
}
