import Foundation

/// Splits a dataset into batches of images with similar aspect ratio, so padding to the batch
/// maximum wastes little compute (the official recipes' `GroupedBatchSampler`).
///
/// Images fall into groups by width / height against ascending `boundaries` (group = number of
/// boundaries ≤ the ratio, Python's `bisect_right`). The default `[1]` gives two groups,
/// portrait (w/h < 1) and landscape-or-square (w/h ≥ 1); `officialBoundaries(k: 3)` reproduces
/// torchvision's `create_aspect_ratio_groups(k=3)` used by Salience DETR.
///
/// Per epoch the indices are shuffled with a stream derived from `(seed, epoch)` (so a resumed
/// run replays the same order), then dealt into per-group buffers; a buffer that reaches the
/// batch size becomes the next batch. Unlike torchvision, which tops up the leftover buffers by
/// repeating samples, the leftovers become final (smaller) batches: every image appears exactly
/// once per epoch and nothing is dropped.
public struct AspectRatioBatchSampler: Sendable, Equatable {
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    /// Group index of each dataset index.
    public let groups: [Int]

    /// - Parameters:
    ///   - aspectRatios: width / height of each dataset image.
    ///   - shuffle: false keeps dataset order (validation), still grouped.
    public init(
        aspectRatios: [Double], batchSize: Int, boundaries: [Double] = [1], shuffle: Bool = true,
        seed: UInt64 = 0
    ) throws {
        guard batchSize >= 1 else {
            throw TrainingDataError(.invalidArgument, file: nil, "batch size must be at least 1 (got \(batchSize))")
        }
        let sorted = boundaries.sorted()
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.groups = aspectRatios.map { r in sorted.reduce(0) { $0 + ($1 <= r ? 1 : 0) } }
    }

    /// torchvision's bins for `k` groups per side: `2^linspace(-1, 1, 2k + 1)` (k = 0 → `[1]`).
    public static func officialBoundaries(k: Int) -> [Double] {
        guard k > 0 else { return [1] }
        return (0...(2 * k)).map { pow(2, -1 + 2 * Double($0) / Double(2 * k)) }
    }

    /// Number of dataset indices.
    public var count: Int { groups.count }

    /// Number of batches in every epoch: Σ over groups of ⌈group size / batch size⌉.
    public var batchCount: Int {
        var sizes: [Int: Int] = [:]
        for g in groups { sizes[g, default: 0] += 1 }
        return sizes.values.reduce(0) { $0 + ($1 + batchSize - 1) / batchSize }
    }

    /// The batches of `epoch` (dataset indices), each image exactly once.
    public func batches(epoch: Int) -> [[Int]] {
        var order = Array(0..<groups.count)
        if shuffle {
            var rng = SeededRandom(seed: seed, stream: [0x5348_5546, UInt64(bitPattern: Int64(epoch))])
            rng.shuffle(&order)
        }
        var buffers: [Int: [Int]] = [:]
        var firstSeen: [Int] = []  // leftover batches come out in order of first appearance
        var out: [[Int]] = []
        out.reserveCapacity(batchCount)
        for index in order {
            let g = groups[index]
            if buffers[g] == nil { firstSeen.append(g) }
            buffers[g, default: []].append(index)
            if buffers[g]!.count == batchSize {
                out.append(buffers[g]!)
                buffers[g] = []
            }
        }
        for g in firstSeen where !(buffers[g]?.isEmpty ?? true) { out.append(buffers[g]!) }
        return out
    }
}
