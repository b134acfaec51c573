import Datasets
import Detection
import Testing
import Torch
import Vision

/// Flip, resize and crop move boxes exactly as DETR's `datasets/transforms.py` does
/// (expected values computed by hand).
@Suite struct BoxTransformTests {
    let sample = TrainingSample(
        imageId: 1, image: DataFixtures.ramp(width: 10, height: 6),
        boxes: [
            PixelBox(x0: 1, y0: 1, x1: 4, y1: 4), PixelBox(x0: 8, y0: 0, x1: 10, y1: 2),
            PixelBox(x0: 0, y0: 5, x1: 10, y1: 6),
        ],
        labels: [1, 2, 3])

    @Test func horizontalFlipMirrorsBoxesAndPixels() {
        let f = sample.flippedHorizontally()
        #expect(
            f.boxes == [
                PixelBox(x0: 6, y0: 1, x1: 9, y1: 4), PixelBox(x0: 0, y0: 0, x1: 2, y1: 2),
                PixelBox(x0: 0, y0: 5, x1: 10, y1: 6),
            ])
        #expect(f.labels == [1, 2, 3])
        // Pixel (x, y) comes from (9 - x, y): the ramp's red channel is the source x.
        #expect(f.image.pixels[0] == 9 && f.image.pixels[3 * (2 * 10 + 7)] == 2)
        #expect(f.flippedHorizontally() == sample)
    }

    @Test func resizeScalesBoxesPerAxis() {
        let r = sample.resized(width: 20, height: 9)  // ratios 2 and 1.5
        #expect(r.image.width == 20 && r.image.height == 9)
        #expect(r.boxes[0] == PixelBox(x0: 2, y0: 1.5, x1: 8, y1: 6))
        #expect(r.boxes[2] == PixelBox(x0: 0, y0: 7.5, x1: 20, y1: 9))
        #expect(r.image == sample.image.resizedBilinear(width: 20, height: 9))
        #expect(r.originalSize == (6, 10))
    }

    @Test func cropClampsAndDropsEmptyBoxes() {
        // Region x in [2, 8), y in [1, 5).
        let c = sample.cropped(top: 1, left: 2, height: 4, width: 6)
        #expect(c.image.width == 6 && c.image.height == 4)
        // (1,1,4,4) - (2,1) = (-1,0,2,3) → clamped (0,0,2,3); (8,0,10,2) → (6,0,6,1) empty;
        // (0,5,10,6) → (0,4,6,4) empty.
        #expect(c.boxes == [PixelBox(x0: 0, y0: 0, x1: 2, y1: 3)])
        #expect(c.labels == [1])
        #expect(Array(c.image.pixels[0..<3]) == [2, 1, 3])  // source pixel (2, 1)
        let last = 3 * (3 * 6 + 5)
        #expect(Array(c.image.pixels[last..<last + 3]) == [7, 4, 11])  // source pixel (7, 4)
    }

    @Test func targetIsNormalisedCxCyWh() {
        let s = TrainingSample(
            imageId: 3, image: Image(width: 20, height: 10),
            boxes: [PixelBox(x0: 2, y0: 4, x1: 6, y1: 10)], labels: [7])
        let t = s.detectionTarget()
        #expect(t.labels.dtype == .int64 && t.labels.ints == [7])
        #expect(t.boxes.shape == [1, 4])
        #expect(t.boxes.floats == [0.2, 0.7, 0.2, 0.6])
        let empty = TrainingSample(imageId: 4, image: Image(width: 5, height: 5), boxes: [], labels: [])
            .detectionTarget()
        #expect(empty.boxes.shape == [0, 4] && empty.labels.shape == [0])
    }

    @Test func resizeRules() {
        let detr = DetectionAugmentation(resizeRule: .detr)
        #expect(detr.outputSize(height: 480, width: 640, shortSide: 800, maxSize: 1333) == (800, 1066))
        // Long side capped: size = round(1333 * 100 / 1000) = 133, long = int(133 * 1000 / 100).
        #expect(detr.outputSize(height: 100, width: 1000, shortSide: 800, maxSize: 1333) == (133, 1330))
        #expect(detr.outputSize(height: 500, width: 400, shortSide: 400, maxSize: nil) == (500, 400))
        let tv = DetectionAugmentation(resizeRule: .shortestSide)
        #expect(tv.outputSize(height: 300, width: 400, shortSide: 600, maxSize: 1333) == (600, 800))
        #expect(tv.outputSize(height: 200, width: 800, shortSide: 400, maxSize: 1000) == (250, 1000))
    }

    @Test func scaledPresetKeepsTheOfficialShape() {
        let full = DetectionAugmentation.scaled()
        #expect(full.scales == Array(stride(from: 480, through: 800, by: 32)) && full.maxSize == 1333)
        #expect(full.cropResizeScales == [400, 500, 600] && full.cropMinSize == 384 && full.cropMaxSize == 600)
        let tiny = DetectionAugmentation.scaled(minSize: 160, maxSize: 267)
        #expect(tiny.scales.first == 96 && tiny.scales.last == 160 && tiny.maxSize == 267)
        #expect(tiny.cropResizeScales == [80, 100, 120] && tiny.cropMinSize == 77 && tiny.cropMaxSize == 120)
    }

    /// What `detr train` builds for a config: the architecture's official recipe at the config's
    /// sizes, with Salience DETR's 1 px box filter (once missing from the CLI).
    @Test func officialRecipePerArchitecture() {
        func config(_ architecture: Architecture) -> ModelConfig {
            var c = ModelConfig(architecture: architecture)
            c.minSize = 160
            c.maxSize = 267
            return c
        }
        let salience = config(.salienceDetr).recipe.trainAugmentation
        #expect(salience.resizeRule == .shortestSide && salience.minBoxSide == 1)
        #expect(
            salience.scales == DetectionAugmentation.scaled(minSize: 160, maxSize: 267).scales
                && salience.maxSize == 267)
        let conditional = config(.conditionalDetr).recipe.trainAugmentation
        #expect(conditional.resizeRule == .detr && conditional.minBoxSide == 0 && conditional.maxSize == 267)
        #expect(
            ModelConfig(architecture: .salienceDetr).recipe.trainAugmentation.scales
                == DetectionAugmentation.officialScales)
    }

    @Test func plainBranchEqualsFlipThenResize() {
        let aug = DetectionAugmentation(flipProbability: 1, scales: [12], maxSize: 100, plainResizeProbability: 1)
        var rng = SeededRandom(seed: 3)
        let out = aug.apply(sample, random: &rng)
        #expect(out == sample.flippedHorizontally().resized(width: 20, height: 12))
        let none = DetectionAugmentation(flipProbability: 0, scales: [6], maxSize: 100, plainResizeProbability: 1)
        #expect(none.apply(sample, random: &rng) == sample)
    }

    @Test func cropBranchKeepsBoxesInsideAndReachesTheScale() {
        let aug = DetectionAugmentation(
            scales: [30], maxSize: 1000, plainResizeProbability: 0,
            cropResizeScales: [20], cropMinSize: 8, cropMaxSize: 16)
        for seed in 0..<50 as Range<UInt64> {
            var rng = SeededRandom(seed: seed)
            let out = aug.apply(sample, random: &rng)
            #expect(min(out.image.width, out.image.height) == 30)
            for b in out.boxes {
                #expect(
                    !b.isEmpty && b.x0 >= 0 && b.y0 >= 0 && b.x1 <= Float(out.image.width)
                        && b.y1 <= Float(out.image.height))
            }
            #expect(Set(out.labels).isSubset(of: [1, 2, 3]))
        }
    }

    @Test func minBoxSideDropsSmallBoxes() {
        let s = TrainingSample(
            imageId: 1, image: Image(width: 10, height: 10),
            boxes: [PixelBox(x0: 0, y0: 0, x1: 0.5, y1: 5), PixelBox(x0: 0, y0: 0, x1: 5, y1: 5)], labels: [1, 2])
        let aug = DetectionAugmentation(flipProbability: 0, scales: [10], plainResizeProbability: 1, minBoxSide: 1)
        var rng = SeededRandom(seed: 0)
        #expect(aug.apply(s, random: &rng).labels == [2])
    }

    @Test func evalTransformScalesBoxes() {
        var rng = SeededRandom(seed: 0)
        let out = SampleTransform.eval(.conditionalDetr(minSize: 12, maxSize: 100)).apply(sample, random: &rng)
        #expect(out.image.width == 20 && out.image.height == 12)
        #expect(out.boxes[0] == PixelBox(x0: 2, y0: 2, x1: 8, y1: 8))
        #expect(rng == SeededRandom(seed: 0))  // no randomness consumed
    }
}
