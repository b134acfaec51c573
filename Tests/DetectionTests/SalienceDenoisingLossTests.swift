import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// Contrastive denoising layout, noise and the criterion's edge cases (no fixtures needed).
@Suite struct SalienceDenoisingLossTests {
    static func tinyConfig() -> ModelConfig { TestSupport.tinySalienceConfig() }

    @Test func groupCountFollowsTheOfficialFormula() {
        let g = { DenoisingQueries.groups(denoisingNum: 100, maxTargets: $0) }
        #expect(g(0) == 1 && g(1) == 100 && g(3) == 33 && g(7) == 14 && g(100) == 1 && g(150) == 1)
        #expect(DenoisingQueries.groups(denoisingNum: 10, maxTargets: 3) == 3)
    }

    @Test func slotsPutBlocksAtMultiplesOfTheLargestImage() {
        let (image, slot) = DenoisingQueries.slots(targetCounts: [2, 3], groups: 1)
        #expect(image == [0, 0, 1, 1, 1, 0, 0, 1, 1, 1])
        #expect(slot == [0, 1, 0, 1, 2, 3, 4, 3, 4, 5])
        let dn = HybridSetCriterion.denoisingIndices(targetCounts: [2, 0], groups: 2, groupSize: 4)
        #expect(dn[0] == MatchIndices(predictions: [0, 1, 4, 5], targets: [0, 1, 0, 1]))
        #expect(dn[1].predictions.isEmpty)
    }

    @Test func attentionMaskSeparatesGroupsAndHidesThemFromMatchingQueries() {
        let mask = DenoisingQueries.attentionMask(groups: 2, groupSize: 2, queries: 2).bools
        let x = true, o = false
        let expected: [Bool] = [
            o, o, x, x, o, o,
            o, o, x, x, o, o,
            x, x, o, o, o, o,
            x, x, o, o, o, o,
            x, x, x, x, o, o,
            x, x, x, x, o, o,
        ]
        #expect(mask == expected)
        #expect(!DenoisingQueries.attentionMask(groups: 1, groupSize: 0, queries: 3).bools.contains(true))
    }

    @Test func seededNoiseKeepsPositivesCloseAndPushesNegativesOut() {
        let box = Tensor([0.5, 0.5, 0.2, 0.4] as [Float], shape: [1, 4])
        let groups = 50
        let boxes = box.repeat([2 * groups, 1]), labels = Tensor([3]).repeat([2 * groups])
        let noise = SeededDenoisingNoise(
            generator: Generator(seed: 7), numClasses: 5, labelNoiseProb: 0.5,
            boxNoiseScale: 1.0)
        let (noisedLabels, queries) = noise.apply(labels: labels, boxes: boxes, groups: groups)
        // Compare in xyxy; negatives that flipped a side (width or height clamped to eps by
        // inverse_sigmoid) cannot be decoded and are skipped.
        let decoded = queries.sigmoid()
        let sizes = decoded.floats
        let shift = (BoxOps.cxcywhToXyxy(decoded) - BoxOps.cxcywhToXyxy(boxes)).abs()  // [K, 4]
        let ratio = (shift / Tensor([0.1, 0.2, 0.1, 0.2] as [Float])).floats
        var checkedNegatives = 0
        for e in 0..<(2 * groups) {
            let row = ratio[(4 * e)..<(4 * e + 4)]
            if e % 2 == 0 {
                #expect(row.allSatisfy { $0 <= 1 + 1e-3 }, "positive \(e): \(Array(row))")
            } else if sizes[4 * e + 2] > 0.002 && sizes[4 * e + 3] > 0.002 {
                #expect(row.allSatisfy { $0 >= 1 - 1e-3 }, "negative \(e): \(Array(row))")
                checkedNegatives += 1
            }
        }
        #expect(checkedNegatives > 5)
        let changed = noisedLabels.ints.filter { $0 != 3 }.count
        #expect(changed > 0 && changed < 50, "about a fifth of 100 labels change, got \(changed)")
        let quiet = SeededDenoisingNoise(
            generator: Generator(seed: 7), numClasses: 5, labelNoiseProb: 0, boxNoiseScale: 0)
        let same = quiet.apply(labels: labels, boxes: boxes, groups: groups)
        #expect(same.labels.ints == labels.ints)
        #expect(TestSupport.maxAbsDiff(same.boxQueries.sigmoid(), boxes) < 1e-6)
    }

    /// Images without targets: no pairs for that image; a batch without any target gets one empty
    /// group and zero denoising losses.
    @Test func emptyTargetsGiveFiniteLosses() throws {
        let config = Self.tinyConfig()
        let model = SalienceDETR(ParameterStore(generator: Generator(seed: 2)).root, config: config)
        let images = Tensor.randn([2, 3, 64, 64], generator: Generator(seed: 3))
        let mask = Tensor.zeros([2, 64, 64], dtype: .bool)
        let one = DetectionTarget(
            labels: Tensor([1, 4]),
            boxes: Tensor([0.3, 0.3, 0.2, 0.2, 0.6, 0.7, 0.3, 0.4] as [Float], shape: [2, 4]))
        let none = DetectionTarget(labels: Tensor([Int]()), boxes: Tensor.zeros([0, 4]))
        let criterion = SalienceCriterion(config: config)
        for targets in [[one, none], [none, none]] {
            let dn = model.denoisingQueries(for: targets, noise: model.denoisingNoise(generator: Generator(seed: 4)))
            let out = model.forward(images: images, mask: mask, training: true, denoising: dn).output
            let (terms, matches) = try criterion(out, targets: targets)
            #expect(terms.map(\.name).count == 16)
            #expect(matches.allSatisfy { $0.indices[1].predictions.isEmpty })
            for (name, value) in terms { #expect(value.item().isFinite, "\(name)") }
            if targets[0].count == 0 {
                #expect(out.denoising?.final.logits.size(1) == 0)
                for (name, value) in terms where name.contains("_dn") { #expect(value.item() == 0, "\(name)") }
            }
        }
    }

    /// Small inputs give fewer matching queries than configured; the denoising mask is cropped.
    @Test func fewerQueriesThanConfiguredStillTrain() throws {
        var config = Self.tinyConfig()
        config.numQueries = 30
        let model = SalienceDETR(ParameterStore(generator: Generator(seed: 2)).root, config: config)
        let target = DetectionTarget(
            labels: Tensor([2]), boxes: Tensor([0.5, 0.5, 0.5, 0.5] as [Float], shape: [1, 4]))
        let dn = model.denoisingQueries(for: [target], noise: model.denoisingNoise(generator: Generator(seed: 1)))
        #expect(dn.groups == 6 && dn.groupSize == 2 && dn.attnMask.shape == [42, 42])
        let out = model.forward(
            images: Tensor.randn([1, 3, 32, 32], generator: Generator(seed: 3)),
            mask: Tensor.zeros([1, 32, 32], dtype: .bool), training: true, denoising: dn
        ).output
        #expect(out.final.logits.size(1) == 22)  // 16 + 4 + 1 + 1 tokens
        #expect(out.denoising?.final.boxes.shape == [1, 12, 4])
        let (terms, _) = try SalienceCriterion(config: config)(out, targets: [target])
        for (name, value) in terms { #expect(value.item().isFinite, "\(name)") }
    }
}
