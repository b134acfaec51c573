import Foundation

/// Counts of which class each ground-truth box was detected as, with a background row and
/// column, at one confidence and one IoU threshold (the "confusion matrix" of detection tools).
///
/// Per image, with the detections whose score is at least `confidenceThreshold`:
/// 1. Every pair of a non-crowd ground-truth box and a detection whose IoU is at least
///    `iouThreshold` is a candidate, whatever their classes.
/// 2. Candidates are taken greedily by descending IoU (ties: higher score, then file order);
///    a pair is kept when neither its box nor its detection is taken yet. Each kept pair
///    counts at (the box's class, the detection's class): the diagonal when they agree.
/// 3. A box left unmatched counts at (its class, background): missed.
/// 4. A detection left unmatched counts at (background, its class): a false positive, unless
///    it lies in a crowd region of its own class (crowd IoU, the detection's area inside the
///    region over its own area, at least `iouThreshold`), which it is then excused by, as
///    in COCO evaluation: such detections are counted in `excusedByCrowd` and nowhere else.
///    Crowd regions themselves are never counted as missed.
///
/// Rows are the ground truth (categories in ascending id order, then background) and columns
/// the prediction (the same order); the (background, background) cell is always 0.
/// Ultralytics' matrix is the transpose of this one (predicted rows, true columns).
public struct COCOConfusionMatrix: Sendable, Equatable {
    public let categoryIds: [Int]
    public let categoryNames: [String]
    public let confidenceThreshold: Double
    public let iouThreshold: Double
    /// `counts[row][column]`, `(K + 1) × (K + 1)`; index K is background.
    public let counts: [[Int]]
    /// Unmatched detections inside a crowd region of their class (not counted in `counts`).
    public let excusedByCrowd: Int

    /// Index of the background row and column.
    public var background: Int { categoryIds.count }

    /// Matches `detections` against the ground truth of `dataset` on the images `imageIds`
    /// (nil: all; detections of other images are not used) for the categories of the dataset
    /// (detections of other categories are not used).
    public init(
        dataset: COCODataset, detections: [COCODetection], confidenceThreshold: Double = 0.25,
        iouThreshold: Double = 0.5, imageIds: [Int]? = nil
    ) {
        let ids = dataset.categoryIds
        let column = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        let images = Set(imageIds ?? dataset.imageIds)
        let K = ids.count
        var counts = [[Int]](repeating: [Int](repeating: 0, count: K + 1), count: K + 1)
        var boxes: [Int: [COCODataset.Annotation]] = [:], crowds: [Int: [COCODataset.Annotation]] = [:]
        for a in dataset.annotations where images.contains(a.imageId) && column[a.categoryId] != nil {
            if a.isCrowd { crowds[a.imageId, default: []].append(a) } else { boxes[a.imageId, default: []].append(a) }
        }
        var found: [Int: [COCODetection]] = [:]
        for d in detections
        where d.score >= confidenceThreshold && images.contains(d.imageId) && column[d.categoryId] != nil {
            found[d.imageId, default: []].append(d)
        }
        var excused = 0
        for image in images.sorted() {
            let truths = boxes[image] ?? [], dets = found[image] ?? []
            var candidates: [(iou: Double, d: Int, g: Int)] = []
            for (di, d) in dets.enumerated() {
                for (gi, g) in truths.enumerated() {
                    let iou = BoxIoU.iou(d.box, g.box, crowd: false)
                    if iou >= iouThreshold { candidates.append((iou, di, gi)) }
                }
            }
            candidates.sort { a, b in
                if a.iou != b.iou { return a.iou > b.iou }
                if dets[a.d].score != dets[b.d].score { return dets[a.d].score > dets[b.d].score }
                return (a.d, a.g) < (b.d, b.g)
            }
            var truthTaken = [Bool](repeating: false, count: truths.count)
            var detectionTaken = [Bool](repeating: false, count: dets.count)
            for c in candidates where !truthTaken[c.g] && !detectionTaken[c.d] {
                truthTaken[c.g] = true
                detectionTaken[c.d] = true
                counts[column[truths[c.g].categoryId]!][column[dets[c.d].categoryId]!] += 1
            }
            for (gi, g) in truths.enumerated() where !truthTaken[gi] { counts[column[g.categoryId]!][K] += 1 }
            for (di, d) in dets.enumerated() where !detectionTaken[di] {
                let inCrowd = (crowds[image] ?? []).contains { crowd in
                    crowd.categoryId == d.categoryId && BoxIoU.iou(d.box, crowd.box, crowd: true) >= iouThreshold
                }
                if inCrowd { excused += 1 } else { counts[K][column[d.categoryId]!] += 1 }
            }
        }
        self.categoryIds = ids
        self.categoryNames = ids.map { dataset.category(id: $0)?.name ?? "" }
        self.confidenceThreshold = confidenceThreshold
        self.iouThreshold = iouThreshold
        self.counts = counts
        self.excusedByCrowd = excused
    }

    /// The matrix as CSV: a header `ground_truth\predicted,<names...>,background`, then one
    /// line per ground-truth class (and `background`) starting with its name.
    public var csv: String {
        let names = categoryNames.map(Self.csvField) + ["background"]
        var lines = ["ground_truth\\predicted," + names.joined(separator: ",")]
        for (row, name) in names.enumerated() {
            lines.append(([name] + counts[row].map(String.init)).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A CSV field, quoted when it holds a comma, quote or line break (quotes doubled).
    public static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
