import Datasets
import Detection
import Foundation
import TestSupport
import Testing
import Torch
import Vision

/// The loader: deterministic whatever the worker count, epoch-dependent order, the skip policy,
/// collation identical to the evaluation path, and flat memory.
@Suite struct DataLoaderTests {
    static let augmentation = DetectionAugmentation.scaled(minSize: 32, maxSize: 56)

    static func loader(
        workers: Int, seed: UInt64 = 9, source: any DetectionSampleSource = DataFixtures.memorySamples(9),
        divisor: Int = 1, policy: UnreadableImagePolicy = .fail
    ) throws -> DataLoader {
        try DataLoader(
            source: source, transform: .train(augmentation), batchSize: 2, seed: seed, sizeDivisor: divisor,
            workers: workers, prefetch: 2, unreadableImages: policy)
    }

    static func collect(_ loader: DataLoader, epoch: Int) throws -> [TrainingBatch] {
        let it = loader.epoch(epoch)
        var out: [TrainingBatch] = []
        while let b = try it.next() { out.append(b) }
        return out
    }

    static func expectSame(_ a: [TrainingBatch], _ b: [TrainingBatch]) {
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) {
            #expect(x.index == y.index && x.imageIds == y.imageIds)
            #expect(x.images.images.shape == y.images.images.shape)
            #expect(TestSupport.maxAbsDiff(x.images.images, y.images.images) == 0)
            #expect(x.images.mask.bools == y.images.mask.bools)
            for (s, t) in zip(x.targets, y.targets) {
                #expect(s.labels.ints == t.labels.ints && s.boxes.floats == t.boxes.floats)
            }
        }
    }

    @Test func workersYieldExactlyWhatTheCallingThreadDoes() throws {
        let inline = try Self.loader(workers: 0)
        let serial = try Self.collect(inline, epoch: 2)
        let threaded = try Self.collect(try Self.loader(workers: 2), epoch: 2)
        #expect(serial.count == inline.batchCount && serial.map(\.index) == Array(0..<inline.batchCount))
        Self.expectSame(serial, threaded)
        #expect(Set(serial.flatMap(\.imageIds)) == Set(100..<109))
        for batch in serial {
            #expect(batch.images.count == batch.targets.count)
            for (t, size) in zip(batch.targets, batch.images.imageSizes) {
                #expect(min(size.height, size.width) <= 32 && max(size.height, size.width) <= 56)
                let v = t.boxes.floats
                #expect(v.allSatisfy { $0 >= 0 && $0 <= 1 })
            }
        }
    }

    @Test func sameSeedSameBatchesOtherEpochOtherOrder() throws {
        let a = try Self.loader(workers: 2), b = try Self.loader(workers: 1)
        let e0 = try Self.collect(a, epoch: 0)
        Self.expectSame(e0, try Self.collect(b, epoch: 0))
        let e1 = try Self.collect(a, epoch: 1)
        #expect(e0.map(\.imageIds) != e1.map(\.imageIds))
        // Resuming mid-epoch replays the rest of it.
        let rest = a.epoch(0, startingAt: 3)
        var resumed: [TrainingBatch] = []
        while let batch = try rest.next() { resumed.append(batch) }
        Self.expectSame(Array(e0.dropFirst(3)), resumed)
    }

    @Test func collationMatchesTheEvaluationPath() throws {
        let samples = DataFixtures.memorySamples(3).samples
        for divisor in [1, 32] {
            let batch = TrainingBatch.collate(samples, sizeDivisor: divisor)
            let ref = ImageBatch.collate(
                samples.map { EvalTransform.normalize($0.image) },
                originalSizes: samples.map(\.originalSize), sizeDivisor: divisor)
            #expect(batch.images.images.shape == ref.images.shape)
            #expect(TestSupport.maxAbsDiff(batch.images.images, ref.images) == 0)
            #expect(batch.images.mask.bools == ref.mask.bools)
            #expect(batch.images.images.size(2) % divisor == 0)
        }
    }

    @Test func unreadableImagesFailOrAreSkipped() throws {
        let dir = try DataFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = (1...4).map { (id: $0, width: 30, height: 20) }
        let json = DataFixtures.cocoJSON(images: images, annotations: images.map { ($0.id, 1, [2, 2, 10, 10], 0) })
        let url = try DataFixtures.writeDataset(in: dir, json: json, images: images)
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: dir.appendingPathComponent("2.png"))
        let data = try COCODetectionDataset(imagesDirectory: dir, annotationFile: url)

        let failing = try Self.loader(workers: 2, source: data)
        #expect(throws: TrainingDataError.self) { _ = try Self.collect(failing, epoch: 0) }

        let skipping = try Self.loader(workers: 2, source: data, policy: .skip)
        let it = skipping.epoch(0)
        var ids: [Int] = []
        while let b = try it.next() { ids += b.imageIds }
        #expect(ids.sorted() == [1, 3, 4])
        #expect(it.skippedImages.count == 1 && it.skippedImages[0].file?.hasSuffix("2.png") == true)
    }

    @Test func evalLoaderIsDeterministicAndUnshuffled() throws {
        let source = DataFixtures.memorySamples(4)
        let loader = try DataLoader(
            source: source, transform: .eval(.salienceDetr(minSize: 32, maxSize: 56)), batchSize: 2,
            shuffle: false, sizeDivisor: 32, workers: 1)
        let a = try Self.collect(loader, epoch: 0), b = try Self.collect(loader, epoch: 5)
        Self.expectSame(a, b)
        #expect(a.allSatisfy { $0.images.images.size(2) % 32 == 0 && $0.images.images.size(3) % 32 == 0 })
    }

    /// Resident memory is process-wide: runs only in the memory-test process (`make test`).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["DETR_MEMORY_TESTS"] == "1"))
    func abandonedEpochsAndLongRunsStayFlat() throws {
        let loader = try Self.loader(workers: 2)
        _ = try loader.epoch(0).next()  // released early: its workers stop
        for e in 0..<3 { _ = try Self.collect(loader, epoch: e) }  // warm-up
        let before = Self.residentBytes()
        for e in 3..<23 { _ = try Self.collect(loader, epoch: e) }
        let growth = Self.residentBytes() - before
        #expect(growth < 16 << 20, "RSS grew by \(growth >> 20) MiB over 20 epochs")
    }

    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
