import Foundation
import Vision

/// What the loader does with an image that cannot be read or decoded.
public enum UnreadableImagePolicy: String, Sendable, Codable {
    /// Stop: `next()` throws the `TrainingDataError` naming the file.
    case fail
    /// Leave the image out of its batch and record it in `EpochIterator.skippedImages`.
    case skip
}

/// Turns a sample source into batches for training or validation: grouped by aspect ratio,
/// shuffled per epoch, decoded, augmented, normalised and padded on background threads.
///
/// Output is deterministic: batch composition depends only on `(seed, epoch)`
/// (`AspectRatioBatchSampler`) and each sample's augmentation only on `(seed, epoch, sample
/// index)`, so any number of workers — or none — yields identical batches, in order, and a
/// run resumed at an epoch (or mid-epoch, `startingAt:`) replays the same data.
///
///     let data = try COCODetectionDataset(imagesDirectory: root.appendingPathComponent("train"),
///                                         annotationFile: root.appendingPathComponent("annotations/train.json"))
///     try data.validate(numClasses: config.numClasses)
///     let recipe = config.recipe
///     let loader = try DataLoader(source: data, transform: .train(recipe.trainAugmentation), batchSize: 2,
///                                 seed: 42, sizeDivisor: recipe.evalTransform.sizeDivisor, workers: 2)
///     for epoch in 0..<epochs {
///         let batches = loader.epoch(epoch)
///         while let batch = try batches.next() {
///             let out = model(batch.images, targets: batch.targets, options: .training(generator: generator))
///         }
///         // batches.skippedImages lists images left out under `.skip`
///     }
public final class DataLoader: Sendable {
    public let source: any DetectionSampleSource
    public let transform: SampleTransform
    public let sampler: AspectRatioBatchSampler
    public let seed: UInt64
    /// Padding multiple (1: Conditional DETR, 32: Salience DETR).
    public let sizeDivisor: Int
    /// Background threads (0: batches are made on the calling thread inside `next()`).
    public let workers: Int
    /// Batches made ahead of the consumer: at most `max(prefetch, workers)` are waiting or in
    /// progress at any time, so memory stays bounded.
    public let prefetch: Int
    public let unreadableImages: UnreadableImagePolicy
    /// Data-parallel training: this process's share of every batch (nil: all of it).
    public let shard: DataShard?

    /// - Parameters:
    ///   - batchSize: images per batch of this process; with a `shard`, the sampler forms global
    ///     batches of `batchSize × shard.count` images and this process gets its part of each.
    ///   - shuffle: shuffle every epoch (training); false keeps dataset order within each group.
    ///   - aspectRatioBoundaries: see `AspectRatioBatchSampler` (default: two groups, w/h < 1 and ≥ 1).
    ///   - shard: with it, every global batch yields a batch, a placeholder where this process's
    ///     part is empty or unreadable (`TrainingBatch.isPlaceholder`), so all processes take
    ///     the same number of steps.
    public init(
        source: any DetectionSampleSource, transform: SampleTransform, batchSize: Int, shuffle: Bool = true,
        seed: UInt64 = 0, sizeDivisor: Int = 1, workers: Int = 2, prefetch: Int = 4,
        unreadableImages: UnreadableImagePolicy = .fail, aspectRatioBoundaries: [Double] = [1],
        shard: DataShard? = nil
    ) throws {
        guard workers >= 0, prefetch >= 1, sizeDivisor >= 1 else {
            throw TrainingDataError(
                .invalidArgument, file: nil,
                "DataLoader: workers must be >= 0, prefetch >= 1 and size divisor >= 1 "
                    + "(got \(workers), \(prefetch), \(sizeDivisor))")
        }
        self.source = source
        self.transform = transform
        self.sampler = try AspectRatioBatchSampler(
            aspectRatios: (0..<source.count).map(source.aspectRatio(at:)), batchSize: batchSize * (shard?.count ?? 1),
            boundaries: aspectRatioBoundaries, shuffle: shuffle, seed: seed)
        self.seed = seed
        self.sizeDivisor = sizeDivisor
        self.workers = workers
        self.prefetch = prefetch
        self.unreadableImages = unreadableImages
        self.shard = shard
    }

    /// Batches per epoch (global batches with a shard: the steps every process takes).
    public var batchCount: Int { sampler.batchCount }

    /// An iterator over the batches of `epoch`, beginning at batch `start` (to resume mid-epoch).
    /// Workers start immediately and stop when the iterator is exhausted or released.
    /// - Parameter roundRobin: only batches number `rank`, `rank + count`, ... (evaluation split
    ///   between processes: each batch is the one a single process would run)
    public func epoch(_ epoch: Int, startingAt start: Int = 0, roundRobin: DataShard? = nil) -> EpochIterator {
        var plan = sampler.batches(epoch: epoch)
        if let r = roundRobin {
            plan = plan.enumerated().filter { $0.offset % r.count == r.rank }.map(\.element)
        }
        return EpochIterator(loader: self, epoch: epoch, plan: plan, start: start)
    }

    /// The random stream of sample `index` in `epoch`.
    public func random(epoch: Int, index: Int) -> SeededRandom {
        SeededRandom(seed: seed, stream: [UInt64(bitPattern: Int64(epoch)), UInt64(index)])
    }

    /// Sample `index` as it appears in `epoch` (decoded and transformed), e.g. to look at augmentations.
    public func sample(at index: Int, epoch: Int) throws -> TrainingSample {
        var rng = random(epoch: epoch, index: index)
        return transform.apply(try source.sample(at: index), random: &rng)
    }

    /// Makes one batch: the samples that could be read (all of them under `.fail`) and the
    /// errors of those skipped.
    /// With a shard, `indices` is the global batch: this process's part is made, or a placeholder.
    func makeBatch(_ indices: [Int], number: Int, epoch: Int) throws -> (TrainingBatch?, [TrainingDataError]) {
        var samples: [TrainingSample] = []
        var skipped: [TrainingDataError] = []
        for i in shard.map({ Array($0.part(of: indices)) }) ?? indices {
            do {
                samples.append(try sample(at: i, epoch: epoch))
            } catch let e as TrainingDataError where e.kind == .unreadableImage && unreadableImages == .skip {
                skipped.append(e)
            }
        }
        if samples.isEmpty && shard != nil {
            return (placeholder(for: indices, number: number, epoch: epoch), skipped)
        }
        let batch = samples.isEmpty ? nil : TrainingBatch.collate(samples, index: number, sizeDivisor: sizeDivisor)
        return (batch, skipped)
    }

    /// A placeholder for an empty part of a global batch: its first readable image (another
    /// process's), or, when none can be read (no process has an image, so the step is skipped),
    /// a blank image without boxes.
    private func placeholder(for indices: [Int], number: Int, epoch: Int) -> TrainingBatch {
        for i in indices {
            if let s = try? sample(at: i, epoch: epoch) {
                var batch = TrainingBatch.collate([s], index: number, sizeDivisor: sizeDivisor)
                batch.isPlaceholder = true
                return batch
            }
        }
        let side = Swift.max(sizeDivisor, 32)
        let blank = TrainingSample(
            imageId: -1, image: Image(width: side, height: side), boxes: [], labels: [])
        var batch = TrainingBatch.collate([blank], index: number, sizeDivisor: sizeDivisor)
        batch.isPlaceholder = true
        return batch
    }
}
