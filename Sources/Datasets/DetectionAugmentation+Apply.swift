import Detection
import Vision

extension DetectionAugmentation {
    /// The augmented sample. Draws, in order: flip, branch, scale(s), crop size and position.
    public func apply(_ sample: TrainingSample, random rng: inout SeededRandom) -> TrainingSample {
        var s = sample
        if rng.bernoulli(flipProbability) { s = s.flippedHorizontally() }
        if rng.bernoulli(plainResizeProbability) {
            s = resize(s, shortSide: rng.choice(scales), maxSize: maxSize)
        } else {
            s = resize(s, shortSide: rng.choice(cropResizeScales), maxSize: nil)
            s = randomSizeCrop(s, random: &rng)
            s = resize(s, shortSide: rng.choice(scales), maxSize: maxSize)
        }
        if minBoxSide > 0 {
            s.filterBoxes { $0.width >= minBoxSide && $0.height >= minBoxSide }
        }
        return s
    }

    func resize(_ s: TrainingSample, shortSide: Int, maxSize: Int?) -> TrainingSample {
        let (h, w) = outputSize(height: s.image.height, width: s.image.width, shortSide: shortSide, maxSize: maxSize)
        return s.resized(width: w, height: h)
    }

    /// DETR's `RandomSizeCrop`: side lengths uniform in `cropMinSize...min(side, cropMaxSize)`,
    /// position uniform (`T.RandomCrop.get_params`). An image side shorter than `cropMinSize`
    /// (possible only with custom scales) is kept whole instead of failing as the official code would.
    func randomSizeCrop(_ s: TrainingSample, random rng: inout SeededRandom) -> TrainingSample {
        let W = s.image.width, H = s.image.height
        let w = rng.int(in: Swift.min(cropMinSize, W)...Swift.min(W, cropMaxSize))
        let h = rng.int(in: Swift.min(cropMinSize, H)...Swift.min(H, cropMaxSize))
        let top = rng.int(in: 0...(H - h)), left = rng.int(in: 0...(W - w))
        return s.cropped(top: top, left: left, height: h, width: w)
    }
}
