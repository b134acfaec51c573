import Torch

/// Ground truth of one image as the criteria consume it.
public struct DetectionTarget: @unchecked Sendable {
    /// [N] int64 class ids (= classifier column).
    public var labels: Tensor
    /// [N, 4] cxcywh normalised by the unpadded resized image size.
    public var boxes: Tensor

    public init(labels: Tensor, boxes: Tensor) {
        self.labels = labels
        self.boxes = boxes
    }

    public var count: Int { labels.size(0) }

    /// The target with labels and boxes on `device`.
    public func to(_ device: Device) -> DetectionTarget {
        DetectionTarget(labels: labels.to(device), boxes: boxes.to(device))
    }
}

/// Matched (prediction, target) indices of one image, in `linear_sum_assignment` order.
public struct MatchIndices: Sendable, Equatable {
    public var predictions: [Int]
    public var targets: [Int]

    public init(predictions: [Int], targets: [Int]) {
        self.predictions = predictions
        self.targets = targets
    }
}

/// Named loss terms in a fixed order; names equal the official loss keys.
public struct LossTerms: @unchecked Sendable, Sequence {
    public private(set) var entries: [(name: String, value: Tensor)] = []

    public init() {}

    public subscript(name: String) -> Tensor? { entries.first { $0.name == name }?.value }

    public mutating func append(_ name: String, _ value: Tensor) { entries.append((name, value)) }

    public mutating func append(contentsOf other: LossTerms, suffix: String = "") {
        for (n, v) in other.entries { entries.append((n + suffix, v)) }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: Tensor)]> { entries.makeIterator() }

    /// Σ weight(name) · value over the terms that have a weight (others are logged only).
    public func weightedSum(_ weight: (String) -> Double?) -> Tensor? {
        var total: Tensor?
        for (n, v) in entries {
            guard let w = weight(n) else { continue }
            total = total.map { $0 + v * w } ?? v * w
        }
        return total
    }
}
