/// The training augmentation of DETR-family detectors (`make_coco_transforms("train")` in
/// DETR / Conditional DETR, `presets.detr` in Salience DETR):
///
///     RandomHorizontalFlip(0.5)
///     RandomSelect(p 0.5):
///         RandomResize(scales, maxSize)
///       or
///         RandomResize(cropResizeScales) → RandomSizeCrop(cropMinSize, cropMaxSize)
///         → RandomResize(scales, maxSize)
///
/// This value describes the pipeline; the Training module applies it to a sample (image and
/// boxes) with a seeded random source. Boxes follow every step; crops drop boxes that become empty.
/// Each architecture's recipe (`ModelConfig.recipe` in Detection) says which settings it trains with.
public struct DetectionAugmentation: Sendable, Equatable, Codable {
    /// Probability of the horizontal flip.
    public var flipProbability: Double
    /// Short-side sizes of the final resize (official: 480, 512, ..., 800).
    public var scales: [Int]
    /// Upper bound of the long side after the final resize (official: 1333).
    public var maxSize: Int
    /// Probability of the plain-resize branch of `RandomSelect` (official: 0.5).
    public var plainResizeProbability: Double
    /// Short-side sizes of the resize before the crop (official: 400, 500, 600; no max size).
    public var cropResizeScales: [Int]
    /// Side range of the random crop (official: 384...600).
    public var cropMinSize: Int
    public var cropMaxSize: Int
    public var resizeRule: ResizeRule
    /// Boxes narrower or lower than this (pixels, after augmentation) are dropped; 0 keeps every
    /// box with positive size (DETR). Salience DETR's `SanitizeBoundingBoxes` uses 1.
    public var minBoxSide: Float

    public init(
        flipProbability: Double = 0.5, scales: [Int] = Self.officialScales, maxSize: Int = 1333,
        plainResizeProbability: Double = 0.5, cropResizeScales: [Int] = [400, 500, 600],
        cropMinSize: Int = 384, cropMaxSize: Int = 600, resizeRule: ResizeRule = .detr,
        minBoxSide: Float = 0
    ) {
        precondition(!scales.isEmpty && !cropResizeScales.isEmpty, "DetectionAugmentation: empty scale list")
        precondition(cropMinSize > 0 && cropMinSize <= cropMaxSize, "DetectionAugmentation: bad crop range")
        self.flipProbability = flipProbability
        self.scales = scales
        self.maxSize = maxSize
        self.plainResizeProbability = plainResizeProbability
        self.cropResizeScales = cropResizeScales
        self.cropMinSize = cropMinSize
        self.cropMaxSize = cropMaxSize
        self.resizeRule = resizeRule
        self.minBoxSide = minBoxSide
    }

    /// 480, 512, ..., 800.
    public static let officialScales = Array(stride(from: 480, through: 800, by: 32))

    /// The official pipeline with every size scaled by `minSize / 800` (the official recipe at
    /// `minSize` 800, `maxSize` 1333), so small configurations train on proportionally small
    /// images. Conditional DETR: `.detr` rule, `minBoxSide` 0; Salience DETR: `.shortestSide`, 1.
    public static func scaled(
        minSize: Int = 800, maxSize: Int = 1333, resizeRule: ResizeRule = .detr,
        minBoxSide: Float = 0
    ) -> DetectionAugmentation {
        let f = Double(minSize) / 800
        func scale(_ v: Int) -> Int { Swift.max(1, Int((Double(v) * f).rounded())) }
        func unique(_ v: [Int]) -> [Int] { v.reduce(into: []) { if !$0.contains($1) { $0.append($1) } } }
        return DetectionAugmentation(
            scales: unique(officialScales.map(scale)), maxSize: maxSize,
            cropResizeScales: unique([400, 500, 600].map(scale)),
            cropMinSize: scale(384), cropMaxSize: Swift.max(scale(384), scale(600)),
            resizeRule: resizeRule, minBoxSide: minBoxSide)
    }

    /// Output (height, width) for a requested short side under `resizeRule`.
    public func outputSize(height h: Int, width w: Int, shortSide: Int, maxSize: Int?) -> (height: Int, width: Int) {
        switch resizeRule {
        case .detr:
            return EvalTransform.conditionalDetr(minSize: shortSide, maxSize: maxSize ?? Int.max)
                .targetSize(height: h, width: w)
        case .shortestSide:
            var r = Double(shortSide) / Double(Swift.min(h, w))
            if let maxSize { r = Swift.min(r, Double(maxSize) / Double(Swift.max(h, w))) }
            return (Swift.max(1, Int(Double(h) * r)), Swift.max(1, Int(Double(w) * r)))
        }
    }
}
