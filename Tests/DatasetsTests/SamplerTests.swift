import Datasets
import Testing

/// Aspect-ratio grouping and the per-epoch seeded shuffle.
@Suite struct SamplerTests {
    let ratios: [Double] = [1.5, 0.5, 1.0, 0.8, 2.0, 0.7, 1.2, 0.9, 1.3, 1.1, 0.6]

    @Test func everyImageOncePerEpochInSingleGroupBatches() throws {
        let sampler = try AspectRatioBatchSampler(aspectRatios: ratios, batchSize: 2, seed: 5)
        #expect(sampler.groups == [1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0])
        #expect(sampler.batchCount == 6)  // 6 landscape → 3 batches, 5 portrait → 3 batches
        for epoch in 0..<4 {
            let batches = sampler.batches(epoch: epoch)
            #expect(batches.count == sampler.batchCount)
            #expect(batches.flatMap { $0 }.sorted() == Array(0..<ratios.count))
            for b in batches {
                #expect(b.count <= 2 && Set(b.map { sampler.groups[$0] }).count == 1)
            }
        }
    }

    @Test func orderDependsOnSeedAndEpochOnly() throws {
        let a = try AspectRatioBatchSampler(aspectRatios: ratios, batchSize: 3, seed: 1)
        let b = try AspectRatioBatchSampler(aspectRatios: ratios, batchSize: 3, seed: 1)
        #expect(a.batches(epoch: 3) == b.batches(epoch: 3))
        #expect(a.batches(epoch: 0) != a.batches(epoch: 1))
        let c = try AspectRatioBatchSampler(aspectRatios: ratios, batchSize: 3, seed: 2)
        #expect(a.batches(epoch: 0) != c.batches(epoch: 0))
    }

    @Test func unshuffledKeepsDatasetOrderWithinGroups() throws {
        let s = try AspectRatioBatchSampler(aspectRatios: ratios, batchSize: 2, shuffle: false)
        #expect(s.batches(epoch: 0) == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 9], [10]])
        #expect(s.batches(epoch: 7) == s.batches(epoch: 0))
    }

    @Test func officialBoundariesAndBadBatchSize() throws {
        #expect(AspectRatioBatchSampler.officialBoundaries(k: 0) == [1])
        let k3 = AspectRatioBatchSampler.officialBoundaries(k: 3)
        #expect(k3.count == 7 && k3.first == 0.5 && k3.last == 2 && abs(k3[3] - 1) < 1e-12)
        #expect(throws: TrainingDataError.self) { try AspectRatioBatchSampler(aspectRatios: ratios, batchSize: 0) }
    }

    @Test func seededRandomIsStableAndUniformEnough() {
        var r = SeededRandom(seed: 42)
        let first = (0..<3).map { _ in r.next() }
        var again = SeededRandom(seed: 42)
        #expect((0..<3).map { _ in again.next() } == first)
        #expect(SeededRandom(seed: 1, stream: [0, 1]) != SeededRandom(seed: 1, stream: [1, 0]))
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<6000 { counts[r.int(in: 0...5)] += 1 }
        #expect(counts.allSatisfy { (850...1150).contains($0) })
        for _ in 0..<1000 {
            let u = r.uniform()
            #expect(u >= 0 && u < 1)
        }
        #expect(r.int(in: 4...4) == 4)
    }
}
