import Detection
import Testing
import Torch
import Vision

/// One image's detections as plain arrays: scores, labels and xyxy boxes (four per detection).
public struct DetectionList: Sendable {
    public var scores: [Float]
    public var labels: [Int]
    public var boxes: [Float]

    public init(scores: [Float], labels: [Int], boxes: [Float]) {
        self.scores = scores
        self.labels = labels
        self.boxes = boxes
    }

    public init(_ objects: [DetectedObject]) {
        self.init(
            scores: objects.map(\.score), labels: objects.map(\.label), boxes: objects.flatMap { $0.box.corners })
    }

    /// Image `i` of batched detection tensors.
    public init(_ d: TensorDetections, image i: Int) {
        self.init(scores: d.scores[i].floats, labels: d.labels[i].ints, boxes: d.boxes[i].floats)
    }

    /// Image `i` of a fixture's `post.<i>.scores|labels|boxes`.
    public init(fixture t: StateDict, image i: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        self.init(
            scores: try #require(t["post.\(i).scores"], sourceLocation: sourceLocation).floats,
            labels: try #require(t["post.\(i).labels"], sourceLocation: sourceLocation).ints,
            boxes: try #require(t["post.\(i).boxes"], sourceLocation: sourceLocation).floats)
    }

    public var count: Int { scores.count }
}

extension TestSupport {
    /// Compares detections with reference detections as a multiset: every detection pairs with
    /// a different reference detection of the same label, a score within `scoreTolerance` and
    /// every box corner within `boxTolerance` pixels. Near-tied scores rank either way under
    /// float rounding (fixtures README quirk 12), so the order is not compared; the scores of
    /// both lists must each be non-increasing. Returns the largest score and box differences of
    /// the pairs.
    @discardableResult
    public static func expectSameDetections(
        _ dets: DetectionList, _ reference: DetectionList, scoreTolerance: Float = 1e-6,
        boxTolerance: Float = 1e-2, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) -> (score: Float, box: Float) {
        #expect(
            dets.count == reference.count, "\(what): \(dets.count) detections, reference \(reference.count)",
            sourceLocation: sourceLocation)
        #expect(
            zip(dets.scores, dets.scores.dropFirst()).allSatisfy { $0 >= $1 }, "\(what): scores not sorted",
            sourceLocation: sourceLocation)
        func boxDiff(_ a: Int, _ j: Int) -> Float {
            (0..<4).map { abs(dets.boxes[4 * a + $0] - reference.boxes[4 * j + $0]) }.max()!
        }
        var unmatched = Array(0..<reference.count)
        var worst: (score: Float, box: Float) = (0, 0)
        for a in 0..<dets.count {
            let hit = unmatched.firstIndex { j in
                reference.labels[j] == dets.labels[a] && abs(reference.scores[j] - dets.scores[a]) <= scoreTolerance
                    && boxDiff(a, j) <= boxTolerance
            }
            guard let hit else {
                let box = Array(dets.boxes[(4 * a)..<(4 * a + 4)])
                Issue.record(
                    "\(what): detection \(a) (label \(dets.labels[a]), score \(dets.scores[a]), box \(box)) not in the reference",
                    sourceLocation: sourceLocation)
                continue
            }
            let j = unmatched.remove(at: hit)
            worst = (max(worst.score, abs(reference.scores[j] - dets.scores[a])), max(worst.box, boxDiff(a, j)))
        }
        #expect(
            unmatched.isEmpty, "\(what): \(unmatched.count) reference detections unmatched",
            sourceLocation: sourceLocation)
        return worst
    }
}
