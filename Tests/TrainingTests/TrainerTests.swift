import Datasets
import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch
import Training
import Vision

@Suite(.serialized) struct TrainerTests {
    static func tinyConfig() -> ModelConfig {
        TestSupport.tinyConditionalConfig(numClasses: 4, numQueries: 10, decoderLayers: 2, dropout: 0.1)
    }

    static func batches() -> [TrainingBatch] {
        let g = Generator(seed: 5)
        return (0..<4).map { n in
            let images = Tensor.randn([2, 3, 64, 64], generator: g)
            let batch = ImageBatch(
                images: images, mask: Tensor.zeros([2, 64, 64], dtype: .bool),
                imageSizes: [(64, 64), (64, 64)], originalSizes: [(64, 64), (64, 64)])
            let targets = (0..<2).map { _ in
                DetectionTarget(
                    labels: Tensor([1, 3]),
                    boxes: Tensor([0.3, 0.3, 0.2, 0.2, 0.6, 0.7, 0.3, 0.4] as [Float], shape: [2, 4]))
            }
            return TrainingBatch(index: n, images: batch, targets: targets, imageIds: [2 * n, 2 * n + 1])
        }
    }

    static func makeTrainer(seed: UInt64) throws -> Trainer {
        let config = tinyConfig()
        let model = try DetectorFactory.make(config: config, store: ParameterStore(generator: Generator(seed: seed)))
        var options = config.recipe.trainingOptions(epochs: 4, iterationsPerEpoch: 1000)
        options.lr = 1e-3
        return Trainer(model: model, options: options, generator: Generator(seed: 11))
    }

    @Test func resumeContinuesExactly() throws {
        let data = Self.batches()
        let a = try Self.makeTrainer(seed: 1)
        try a.trainEpoch(data.prefix(2), count: 2) { _ in }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try a.checkpoint().write(to: url)
        var lossesA: [Double] = []
        try a.trainEpoch(data.suffix(2), count: 2) { lossesA.append($0.loss) }

        let b = try Self.makeTrainer(seed: 99)  // different init, overwritten by the checkpoint
        try b.restore(TrainingCheckpoint.read(from: url), source: url.path)
        #expect(b.epoch == 1 && b.step == 2)
        var lossesB: [Double] = []
        try b.trainEpoch(data.suffix(2), count: 2) { lossesB.append($0.loss) }
        #expect(lossesA == lossesB)
        for ((k, x), (_, y)) in zip(a.model.stateDict(), b.model.stateDict()) {
            #expect(TestSupport.maxAbsDiff(x, y) == 0, "\(k) differs after resume")
        }
    }

    /// The weight average follows `d · average + (1 − d) · weight` with the warm-up decay, resumes
    /// exactly from a checkpoint, and is what a checkpoint gives `detr predict`.
    @Test func weightAverageUpdatesResumesAndIsTheCheckpointsModel() throws {
        let data = Self.batches()
        let a = try Self.makeTrainer(seed: 1)
        a.weightAverage = WeightAverage(model: a.model, decay: 0.9, tau: 3)
        let key = "class_embed.weight"
        let w0 = a.model.stateDict()[key]!.clone()
        try a.trainEpoch(data.prefix(1), count: 1) { _ in }
        let d1 = 0.9 * (1 - exp(-1.0 / 3))
        let expected = w0 * d1 + a.model.stateDict()[key]! * (1 - d1)
        #expect(TestSupport.maxAbsDiff(a.weightAverage!.stateDict[key]!, expected) < 1e-7)
        #expect(abs(a.weightAverage!.currentDecay - 0.9 * (1 - exp(-2.0 / 3))) < 1e-15)

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ema-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try a.checkpoint().write(to: url)
        try a.trainEpoch(data.suffix(2), count: 2) { _ in }

        let b = try Self.makeTrainer(seed: 99)
        b.weightAverage = WeightAverage(model: b.model, decay: 0.9, tau: 3)
        try b.restore(TrainingCheckpoint.read(from: url), source: url.path)
        #expect(b.weightAverage?.updates == 1)
        try b.trainEpoch(data.suffix(2), count: 2) { _ in }
        for ((k, x), (_, y)) in zip(a.weightAverage!.stateDict, b.weightAverage!.stateDict) {
            #expect(TestSupport.maxAbsDiff(x, y) == 0, "\(k): the average differs after the resume")
        }
        // A checkpoint with an average loads the average as the model's weights.
        try b.checkpoint().write(to: url)
        let loaded = try DetectorFactory.make(config: Self.tinyConfig())
        try DetectorFactory.loadWeights(url, into: loaded)
        #expect(TestSupport.maxAbsDiff(loaded.stateDict()[key]!, b.weightAverage!.stateDict[key]!) == 0)
        #expect(TestSupport.maxAbsDiff(loaded.stateDict()[key]!, b.model.stateDict()[key]!) > 0)
    }

    @Test func lossDecreasesOnAFixedBatch() throws {
        let t = try Self.makeTrainer(seed: 3)
        let one = Array(Self.batches().prefix(1))
        var losses: [Double] = []
        for _ in 0..<15 { try t.trainEpoch(one, count: 1) { losses.append($0.loss) } }
        #expect(losses.last! < losses.first! * 0.9, "\(losses)")
    }

    @Test func checkpointLoadsIntoPredictPath() throws {
        let t = try Self.makeTrainer(seed: 4)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try t.checkpoint().write(to: url)
        let fresh = try DetectorFactory.make(config: Self.tinyConfig())
        try DetectorFactory.loadWeights(url, into: fresh)
        let key = "class_embed.weight"
        let a = t.model.stateDict()[key]!, b = fresh.stateDict()[key]!
        #expect(TestSupport.maxAbsDiff(a, b) == 0)
    }

    @Test func nonFiniteValuesStopWithStepAndCause() throws {
        let t = try Self.makeTrainer(seed: 6)
        let bias = try #require(t.model.namedParameters().first { $0.key == "bbox_embed.layers.2.bias" }?.tensor)
        withNoGrad { _ = bias.fill_(Double.nan) }
        do {
            try t.trainEpoch(Self.batches().prefix(1), count: 1) { _ in }
            Issue.record("training went on with NaN boxes")
        } catch {
            let text = "\(error)"
            #expect(text.contains("step 0") && (text.contains("non-finite") || text.contains("nan")), "\(text)")
        }
    }

    @Test func weightsOfOfficialTermNames() {
        let c = Self.tinyConfig().recipe.criterion()
        #expect(c.weight(of: "loss_ce") == 2 && c.weight(of: "loss_bbox_3") == 5 && c.weight(of: "loss_giou_0") == 2)
        #expect(c.weight(of: "class_error") == nil && c.weight(of: "cardinality_error_1") == nil)
    }
}
