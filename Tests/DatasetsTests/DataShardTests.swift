import Datasets
import Detection
import Foundation
import TestSupport
import Testing
import Torch
import Vision

/// Data-parallel sharding: the processes' parts of every global batch are disjoint, together
/// they are the single process's batch (with `batchSize × processes`), every process takes the
/// same number of steps, and a process whose part is empty gets a placeholder.
@Suite struct DataShardTests {
    @Test func partsAreContiguousBalancedAndCoverTheBatch() throws {
        for n in 0...7 {
            for count in 1...4 {
                let batch = Array(100..<(100 + n))
                let parts = try (0..<count).map { try DataShard(rank: $0, count: count).part(of: batch) }
                #expect(parts.flatMap { Array($0) } == batch)
                let sizes = parts.map(\.count)
                #expect(sizes.max()! - sizes.min()! <= 1)
                #expect(sizes == sizes.sorted(by: >))
            }
        }
        #expect(throws: TrainingDataError.self) { try DataShard(rank: 2, count: 2) }
    }

    @Test func shardedLoadersTogetherYieldTheSingleProcessBatches() throws {
        let source = DataFixtures.memorySamples(9)
        let augmentation = DetectionAugmentation.scaled(minSize: 32, maxSize: 56)
        func loader(_ batchSize: Int, _ shard: DataShard?) throws -> DataLoader {
            try DataLoader(
                source: source, transform: .train(augmentation), batchSize: batchSize, seed: 4, workers: 1,
                shard: shard)
        }
        let single = try loader(2, nil)
        let shards = try (0..<2).map { try loader(1, DataShard(rank: $0, count: 2)) }
        #expect(shards.allSatisfy { $0.batchCount == single.batchCount })
        for epoch in 0..<2 {
            let whole = try DataLoaderTests.collect(single, epoch: epoch)
            let parts = try shards.map { try DataLoaderTests.collect($0, epoch: epoch) }
            #expect(parts.allSatisfy { $0.count == whole.count })
            for (k, batch) in whole.enumerated() {
                let a = parts[0][k], b = parts[1][k]
                if batch.count == 1 {
                    // One image for two processes: rank 1 holds a copy of it, counting zero.
                    #expect(!a.isPlaceholder && a.imageIds == batch.imageIds)
                    #expect(b.isPlaceholder && b.imageIds == batch.imageIds)
                } else {
                    #expect(!a.isPlaceholder && !b.isPlaceholder)
                    #expect(a.imageIds + b.imageIds == batch.imageIds)
                    // The same augmented pixels as in the single process's batch.
                    for (part, offset) in [(a, 0), (b, 1)] {
                        let (h, w) = part.images.imageSizes[0]
                        #expect(
                            batch.images.imageSizes[offset].height == h && batch.images.imageSizes[offset].width == w)
                        let mine = part.images.images[0].slice(dim: 1, end: h).slice(dim: 2, end: w)
                        let theirs = batch.images.images[offset].slice(dim: 1, end: h).slice(dim: 2, end: w)
                        #expect(TestSupport.maxAbsDiff(mine, theirs) == 0)
                    }
                }
            }
        }
    }

    @Test func paddingToTheGlobalSizeMatchesTheSingleProcessBatch() throws {
        let samples = DataFixtures.memorySamples(2).samples
        let whole = TrainingBatch.collate(samples)
        let first = TrainingBatch.collate([samples[0]])
        let padded = first.padded(height: whole.images.images.size(2), width: whole.images.images.size(3))
        #expect(padded.images.images.shape == [1] + Array(whole.images.images.shape.dropFirst()))
        #expect(TestSupport.maxAbsDiff(padded.images.images[0], whole.images.images[0]) == 0)
        #expect(padded.images.mask[0].bools == whole.images.mask[0].bools)
    }
}
