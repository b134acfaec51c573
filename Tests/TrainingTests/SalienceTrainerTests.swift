import Datasets
import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch
import Training
import Vision

/// Salience DETR through the Trainer: denoising queries, the hybrid criterion and the weights.
@Suite(.serialized) struct SalienceTrainerTests {
    static func tinyConfig() -> ModelConfig { TestSupport.tinySalienceConfig() }

    /// Two 64×64 images (the second padded from 48 rows), three boxes.
    static func batch() -> TrainingBatch {
        let images = Tensor.randn([2, 3, 64, 64], generator: Generator(seed: 5))
        let mask = Tensor.zeros([2, 64, 64], dtype: .bool)
        withNoGrad {
            _ = images[1].slice(dim: 1, start: 48).zero_()
            _ = mask[1].slice(dim: 0, start: 48).fill_(true)
        }
        let batch = ImageBatch(
            images: images, mask: mask, imageSizes: [(64, 64), (48, 64)],
            originalSizes: [(64, 64), (48, 64)])
        let targets = [
            DetectionTarget(
                labels: Tensor([1, 3]),
                boxes: Tensor([0.3, 0.3, 0.3, 0.3, 0.6, 0.7, 0.4, 0.5] as [Float], shape: [2, 4])),
            DetectionTarget(labels: Tensor([2]), boxes: Tensor([0.5, 0.5, 0.6, 0.6] as [Float], shape: [1, 4])),
        ]
        return TrainingBatch(index: 0, images: batch, targets: targets, imageIds: [0, 1])
    }

    @Test func criterionComesWithOfficialWeights() throws {
        let c = Self.tinyConfig().recipe.criterion()
        #expect(c.weight(of: "class_error") == nil)
        #expect(
            c.weight(of: "loss_class") == 1 && c.weight(of: "loss_bbox_dn_1") == 5 && c.weight(of: "loss_giou_enc") == 2
        )
        #expect(
            c.weight(of: "loss_class_dn") == 1 && c.weight(of: "loss_bbox_0") == 5 && c.weight(of: "loss_salience") == 2
        )
    }

    /// Fine-tuning freezes the stem and the stages of `freeze_indices`; from scratch
    /// (`freezeBackbone` false) the whole backbone trains, although the model is built frozen.
    @Test func backboneFreezingFollowsTheOptions() throws {
        var config = Self.tinyConfig()
        config.backbone.freezeIndices = [0, 1]
        let recipe = config.recipe
        func trainableBackbone(freeze: Bool) throws -> [String] {
            let model = try DetectorFactory.make(config: config)
            var options = recipe.trainingOptions(epochs: 1, iterationsPerEpoch: 1)
            options.freezeBackbone = freeze
            // Building the optimizer changes nothing; the trainer applies the freezing policy.
            let before = model.trainableParameters().map(\.key)
            _ = recipe.optimizer(for: model, options: options)
            #expect(model.trainableParameters().map(\.key) == before)
            _ = Trainer(model: model, options: options, generator: Generator(seed: 0))
            return model.trainableParameters().map(\.key).filter { $0.hasPrefix("backbone.") }
        }
        let all = try DetectorFactory.make(config: config).namedParameters().map(\.key).filter {
            $0.hasPrefix("backbone.")
        }
        let fineTuned = try trainableBackbone(freeze: true)
        #expect(
            !fineTuned.isEmpty
                && fineTuned.allSatisfy { !$0.hasPrefix("backbone.conv1") && !$0.hasPrefix("backbone.layer1.") })
        #expect(fineTuned.count < all.count)
        #expect(try trainableBackbone(freeze: false) == all)
    }

    /// Ten steps on one batch lower the loss. Denoising noise and the two-stage query choice make
    /// single steps noisy, so the loss is compared before and after at one fixed denoising seed.
    @Test func lossDecreasesOnAFixedBatch() throws {
        let config = Self.tinyConfig()
        let model = try DetectorFactory.make(config: config, store: ParameterStore(generator: Generator(seed: 3)))
        var options = config.recipe.trainingOptions(epochs: 100, iterationsPerEpoch: 1)
        options.lr = 5e-3
        let trainer = Trainer(model: model, options: options, generator: Generator(seed: 11))
        let criterion = trainer.criterion
        let one = [Self.batch()]
        func evaluate() throws -> (total: Double, salience: Double) {
            let out = model(one[0].images, targets: one[0].targets, options: .training(generator: Generator(seed: 99)))
            let terms = try criterion.losses(out, targets: one[0].targets)
            return (criterion.total(terms)!.item(), terms["loss_salience"]!.item())
        }
        let before = try evaluate()
        var names: [String] = []
        for _ in 0..<10 {
            try trainer.trainEpoch(one, count: 1) { report in
                #expect(report.loss.isFinite)
                names = report.terms.map(\.name)
            }
        }
        let after = try evaluate()
        #expect(names.count == 16 && names.last == "loss_salience" && names.contains("loss_giou_dn_0"))
        #expect(after.total < before.total * 0.95, "total \(before.total) -> \(after.total)")
        #expect(after.salience < before.salience * 0.7, "salience \(before.salience) -> \(after.salience)")
    }
}
