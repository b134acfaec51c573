import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch
import Vision

/// Inputs the official code cannot run: fewer tokens than topk_sa or than num_queries, and
/// batches mixing tiny and large images. Random weights, the fixtures' tiny configuration.
@Suite(.serialized, .needsFixtures) struct SalienceDETRRobustnessTests {
    static func tinyModel(sourceLocation: SourceLocation = #_sourceLocation) throws -> SalienceDETR {
        let store = ParameterStore(generator: Generator(seed: 7))
        return SalienceDETR(store.root, config: try SalienceFixture.config(sourceLocation: sourceLocation))
    }

    static func batch(_ sizes: [(Int, Int)]) -> ImageBatch {
        let g = Generator(seed: 11)
        let images = sizes.map { Tensor.randn([3, $0.0, $0.1], generator: g) }
        return ImageBatch.collate(images, originalSizes: sizes.map { (height: $0.0, width: $0.1) }, sizeDivisor: 32)
    }

    /// Runs the model and post-processing; checks shapes, finiteness and the detection count.
    static func run(_ model: SalienceDETR, _ batch: ImageBatch) -> (DetectorOutput, SalienceDETR.Trace) {
        let (out, trace) = withNoGrad { model.forward(images: batch.images, mask: batch.mask, training: false) }
        let q = out.final.logits.size(1)
        #expect(out.final.boxes.shape == [batch.count, q, 4])
        #expect(out.final.logits.isFinite().all().bools[0] && out.final.boxes.isFinite().all().bools[0])
        #expect(out.encoder!.logits.shape == [batch.count, q, model.config.numClasses])
        let dets = PostProcess(numSelect: model.config.numSelect).detections(
            logits: out.final.logits, boxes: out.final.boxes, originalSizes: batch.originalSizes)
        #expect(dets.map(\.count) == Array(repeating: model.config.numSelect, count: batch.count))
        return (out, trace)
    }

    @Test func imageSmallerThanTheTokenBudgets() throws {
        let model = try Self.tinyModel()
        // 40x40 padded to 64x64: 85 tokens over 4 levels (the fixture config has 100 queries),
        // 22 foreground tokens (its topk_sa is 30).
        let (out, trace) = Self.run(model, Self.batch([(40, 40)]))
        #expect(trace.transformer.layout.tokenCount == 85)
        #expect(trace.transformer.salience.layerIndexCounts.allSatisfy { $0 < model.config.topkSA })
        #expect(out.final.logits.size(1) == Swift.min(85, model.config.numQueries))
        // Selected queries are distinct tokens.
        let index = trace.transformer.queries.topkIndex.ints
        #expect(Set(index).count == index.count)
    }

    @Test func tinyImageAloneHasOneTokenPerCoarseLevel() throws {
        let model = try Self.tinyModel()
        let (out, trace) = Self.run(model, Self.batch([(8, 8)]))
        #expect(trace.transformer.layout.shapes.map(\.count) == [16, 4, 1, 1])
        #expect(out.final.logits.size(1) == Swift.min(22, model.config.numQueries))
    }

    @Test func tinyAndLargeImagesInOneBatch() throws {
        let model = try Self.tinyModel()
        let batch = Self.batch([(40, 40), (300, 450)])
        let (out, trace) = Self.run(model, batch)
        #expect(batch.images.shape == [2, 3, 320, 480])
        let q = model.config.numQueries
        #expect(out.final.logits.size(1) == q)
        let s = trace.transformer.salience
        #expect(s.focusTokenNums[0] < s.focusTokenNums[1])
        // Each image's queries are distinct tokens.
        let index = trace.transformer.queries.topkIndex.ints
        for b in 0..<batch.count { #expect(Set(index[(b * q)..<((b + 1) * q)]).count == q) }
        #expect(out.encoder!.boxes.isFinite().all().bools[0])
    }

    /// Training mode runs (dropout, BatchNorm2d batch statistics in the transformer neck, whose
    /// running statistics are updated); denoising and losses come with the training issue.
    @Test func trainingModeUpdatesNeckStatistics() throws {
        let model = try Self.tinyModel()
        let key = "transformer.neck.lateral_convs.0.1.num_batches_tracked"
        let before = model.stateDict()[key]!.itemInt()
        let batch = Self.batch([(64, 96), (96, 64)])
        let out = withNoGrad { model(batch, options: .training()) }
        #expect(out.final.logits.isFinite().all().bools[0])
        #expect(model.stateDict()[key]!.itemInt() == before + 1)
    }
}
