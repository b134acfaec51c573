import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch
import Vision

/// Both detectors' eval and training forwards, losses and backward with the model and its inputs
/// on one device: a GPU (`cuda:0`) when the linked libtorch has CUDA and sees one, else the CPU
/// through the same code. Every output, loss and gradient must be on that device; a tensor left on
/// the CPU by a forward, loss or matcher fails there as libtorch refuses to mix devices.
@Suite(.serialized) struct DevicePlacementTests {
    static let device: Device = Device.cudaAvailable ? .cuda(0) : .cpu

    static func configs() -> [(String, ModelConfig)] {
        [
            ("salience", TestSupport.tinySalienceConfig()),
            (
                "conditional",
                TestSupport.tinyConditionalConfig(numClasses: 5, numQueries: 10, decoderLayers: 2, dropout: 0.1)
            ),
        ]
    }

    static func batch(on device: Device) -> ImageBatch {
        let g = Generator(seed: 11)
        let images = Tensor.rand([2, 3, 64, 80], generator: g)
        let mask = Tensor.zeros([2, 64, 80], dtype: .bool)
        withNoGrad { _ = mask[1].slice(dim: 1, start: 64).fill_(true) }  // the second image is 64x64
        return ImageBatch(
            images: images, mask: mask, imageSizes: [(64, 80), (64, 64)], originalSizes: [(64, 80), (64, 64)]
        ).to(device)
    }

    static func targets(on device: Device) -> [DetectionTarget] {
        [
            DetectionTarget(
                labels: Tensor([1, 3]),
                boxes: Tensor([0.3, 0.4, 0.2, 0.3, 0.7, 0.6, 0.3, 0.2] as [Float], shape: [2, 4])),
            DetectionTarget(labels: Tensor([2]), boxes: Tensor([0.5, 0.5, 0.4, 0.4] as [Float], shape: [1, 4])),
        ].map { $0.to(device) }
    }

    static func tensors(of output: DetectorOutput) -> [(String, Tensor)] {
        var all = [("final.logits", output.final.logits), ("final.boxes", output.final.boxes)]
        for (i, a) in output.auxiliary.enumerated() {
            all += [("aux\(i).logits", a.logits), ("aux\(i).boxes", a.boxes)]
        }
        if let e = output.encoder { all += [("encoder.logits", e.logits), ("encoder.boxes", e.boxes)] }
        if let d = output.denoising {
            all += [("denoising.logits", d.final.logits), ("denoising.boxes", d.final.boxes)]
        }
        if let s = output.salience { all += s.scores.enumerated().map { ("salience\($0.offset)", $0.element) } }
        return all
    }

    @Test(arguments: configs().map(\.0))
    func forwardsLossesAndGradientsStayOnTheDevice(_ name: String) throws {
        let device = Self.device
        let config = Self.configs().first { $0.0 == name }!.1
        let model = try DetectorFactory.make(
            config: config, store: try ParameterStore(dtype: .float32, device: device, generator: Generator(seed: 5)))
        #expect(model.stateDict().allSatisfy { $0.value.device == device }, "\(name): parameters on \(device)")
        let batch = Self.batch(on: device)

        let eval = withNoGrad { model(batch) }
        for (what, t) in Self.tensors(of: eval) { #expect(t.device == device, "\(name) eval \(what) on \(t.device)") }
        let post = config.recipe.postProcess
        let detections = post.detections(
            logits: eval.final.logits, boxes: eval.final.boxes, originalSizes: batch.originalSizes)
        #expect(detections.count == batch.count)

        let targets = Self.targets(on: device)
        let output = model(batch, targets: targets, options: .training(generator: Generator(seed: 6)))
        for (what, t) in Self.tensors(of: output) {
            #expect(t.device == device, "\(name) train \(what) on \(t.device)")
        }
        let criterion = config.recipe.criterion()
        let terms = try criterion.losses(output, targets: targets)
        for (term, t) in terms { #expect(t.device == device, "\(name) loss \(term) on \(t.device)") }
        let total = try #require(criterion.total(terms))
        #expect(total.item().isFinite)
        total.backward()
        let grads = model.parameters().compactMap(\.grad)
        #expect(!grads.isEmpty)
        #expect(grads.allSatisfy { $0.device == device }, "\(name): gradients on \(device)")
    }
}
