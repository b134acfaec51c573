import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// Salience DETR on a batch with a very wide image, from the neck's outputs on, against the
/// official code: a 150x100 portrait (resized to 192x128), a 120x160 image without targets
/// (128x170) and a 40x300 strip (28x213 after the max-size clamp), padded to 192x224. The
/// strip and the image without targets select padded tokens at several levels, so the order
/// of tied padded tokens and their part in each encoder layer's top-k self-attention are
/// exercised on every run (the shared fixture sets have no such batch).
///
/// `Tests/Fixtures/salience-wide/` was cut by `scripts/fixtures-wide/extract.py` out of a set
/// that `scripts/fixtures-wide/make.sh` made with the official code (its resnet18 backbone and
/// channel mapper are left out): the transformer's weights, its recorded inputs (`neck.<l>`,
/// `mask.<l>`, `pos.<l>`) and every official stage output after them. Tolerances as
/// `SalienceDETRParityTests` (1e-4 · max(1, max|ref|); selections exact up to tied padded
/// tokens and near-ties).
@Suite struct SalienceWideBatchTests {
    static let directory = TestSupport.repoRoot.appendingPathComponent("Tests/Fixtures/salience-wide")

    @Test func transformerStagesMatchTheOfficialCode() throws {
        let config = try ModelConfig.load(contentsOf: Self.directory.appendingPathComponent("tiny.config.json"))
        let model = SalienceDETR(ParameterStore().root, config: config)
        let weights = try Safetensors.read(contentsOf: Self.directory.appendingPathComponent("transformer.safetensors"))
            .tensors
        let report = try model.load(stateDict: weights, strict: false, source: "transformer.safetensors")
        // Every transformer tensor comes from the fixture; only the backbone and neck stay unset.
        #expect(report.missingKeys.allSatisfy { !$0.hasPrefix("transformer.") }, "\(report.missingKeys)")
        #expect(report.unexpectedKeys.isEmpty, "\(report.unexpectedKeys)")
        let ref = try Safetensors.read(contentsOf: Self.directory.appendingPathComponent("stages.safetensors")).tensors
        let levels = model.config.numFeatureLevels
        let features = try (0..<levels).map { try #require(ref["neck.\($0)"]) }
        let masks = try (0..<levels).map { try #require(ref["mask.\($0)"]) }
        let positions = try (0..<levels).map { try #require(ref["pos.\($0)"]) }
        // The batch is the one described above: three images, one of them a strip.
        let sizes = TestSupport.sizes(try #require(ref["pre.image_sizes"]))
        #expect(sizes.count == 3 && sizes.contains { $0.width >= 7 * $0.height })

        let t = withNoGrad { model.transformerStages(features: features, masks: masks, positions: positions) }
        _ = try SalienceDETRParityTests.checkTransformer(t, ref: ref, config: model.config) { official in
            withNoGrad {
                model.transformerStages(
                    features: features, masks: masks, positions: positions, encoderQueries: official)
            }
        }
    }
}
