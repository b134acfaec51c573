import COCO
import Datasets
import Detection
import Dispatch
import Foundation
import NN
import TestSupport
import Testing
import Torch
import Training

/// Evaluation split between two processes (ranks on threads, Gloo on 127.0.0.1): rank 0 gathers
/// exactly the detections one process makes over the same batches, in the same order, and the
/// same metrics; the other rank gets none.
@Suite(.serialized) struct ShardedEvaluationTests {
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int: Result<DatasetEvaluation?, any Error>] = [:]
        subscript(rank: Int) -> Result<DatasetEvaluation?, any Error>? {
            get { lock.withLock { values[rank] } }
            set { lock.withLock { values[rank] = newValue } }
        }
    }

    @Test func twoProcessesGatherWhatOneDetects() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sharded-eval-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let shapes = try SyntheticShapes(seed: 2, sizeRange: 48...72).write(
            to: dir, images: 12, validationFraction: 0.5)
        let images = dir.appendingPathComponent("val"), annotations = shapes.valAnnotations
        var config = TestSupport.tinyConditionalConfig(numClasses: 4, numQueries: 8, decoderLayers: 1, dropout: 0)
        config.minSize = 64
        config.maxSize = 96
        // The same weights in every process (each its own model, as each process would have).
        let fixed = config
        let makeModel: @Sendable () throws -> any Detector = {
            try DetectorFactory.make(config: fixed, store: ParameterStore(generator: Generator(seed: 3)))
        }
        let reference = try DatasetEvaluator.run(
            predictor: Predictor(detector: makeModel()), imagesDirectory: images, annotations: annotations,
            batchSize: 2, workers: 0)
        #expect(!reference.detections.isEmpty)

        let server = try RendezvousServer(timeout: 300)
        let port = server.port
        let results = Results()
        let done = DispatchGroup()
        for rank in 0..<2 {
            DispatchQueue.global().async(group: done) {
                results[rank] = Result {
                    let world = World(
                        rank: rank, size: 2, localRank: rank, masterAddress: "127.0.0.1", masterPort: port,
                        storeHostedByLauncher: true)
                    let parallel = try DataParallel(world: world, timeout: 300)
                    return try parallel.evaluate(
                        predictor: Predictor(detector: makeModel()), imagesDirectory: images, annotations: annotations,
                        batchSize: 2, workers: 0)
                }
            }
        }
        done.wait()
        withExtendedLifetime(server) {}
        let gathered = try #require(try results[0]?.get())
        #expect(try results[1]?.get() == nil)
        #expect(gathered.detections == reference.detections)
        #expect(gathered.summary.stats == reference.summary.stats)
    }
}
