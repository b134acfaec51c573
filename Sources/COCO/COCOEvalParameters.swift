/// The settings of a bbox evaluation, mirroring pycocotools' `Params` (iouType 'bbox').
///
/// Defaults are pycocotools' defaults, bit for bit: IoU thresholds
/// `np.linspace(.5, .95, 10)` (so the ninth is 0.8999999999999999), recall thresholds
/// `np.linspace(0, 1, 101)`, maxDets `[1, 10, 100]`, area ranges all / small / medium / large.
public struct COCOEvalParameters: Sendable, Equatable {
    /// A named object-area range `[lower, upper]` (both inclusive, as in pycocotools).
    public struct AreaRange: Sendable, Equatable {
        public var label: String
        public var lower: Double
        public var upper: Double

        public init(_ label: String, _ lower: Double, _ upper: Double) {
            self.label = label
            self.lower = lower
            self.upper = upper
        }

        func contains(_ area: Double) -> Bool { !(area < lower || area > upper) }
    }

    /// Images to evaluate (nil: every image of the dataset). Unknown ids evaluate as empty
    /// images, as in pycocotools. Repeats are removed and the ids sorted.
    public var imageIds: [Int]?
    /// Categories to evaluate (nil: every category of the dataset, ascending); sorted,
    /// without repeats. With `useCategories == false` they select which annotations and
    /// detections take part and, as in pycocotools, their order (kept as given, repeats
    /// dropped) orders each image's entries, which breaks score ties.
    public var categoryIds: [Int]?
    public var iouThresholds: [Double]
    public var recallThresholds: [Double]
    /// Detections kept per image (and category); sorted ascending before use, as pycocotools
    /// does. The summary reads `maxDetections[0...2]` and needs at least three values.
    public var maxDetections: [Int]
    public var areaRanges: [AreaRange]
    /// false: category labels are ignored (pycocotools `useCats = 0`).
    public var useCategories: Bool

    public init(
        imageIds: [Int]? = nil, categoryIds: [Int]? = nil,
        iouThresholds: [Double] = COCOEvalParameters.defaultIoUThresholds,
        recallThresholds: [Double] = COCOEvalParameters.defaultRecallThresholds,
        maxDetections: [Int] = [1, 10, 100],
        areaRanges: [AreaRange] = COCOEvalParameters.defaultAreaRanges,
        useCategories: Bool = true
    ) {
        self.imageIds = imageIds
        self.categoryIds = categoryIds
        self.iouThresholds = iouThresholds
        self.recallThresholds = recallThresholds
        self.maxDetections = maxDetections
        self.areaRanges = areaRanges
        self.useCategories = useCategories
    }

    /// `np.linspace(.5, 0.95, 10)`.
    public static let defaultIoUThresholds = linspace(0.5, 0.95, count: 10)
    /// `np.linspace(.0, 1.00, 101)`.
    public static let defaultRecallThresholds = linspace(0.0, 1.0, count: 101)
    /// all `[0, 1e5²]`, small `[0, 32²]`, medium `[32², 96²]`, large `[96², 1e5²]`.
    public static let defaultAreaRanges = [
        AreaRange("all", 0, 1e10), AreaRange("small", 0, 1024),
        AreaRange("medium", 1024, 9216), AreaRange("large", 9216, 1e10),
    ]

    /// `numpy.linspace(start, stop, count)` with numpy's exact arithmetic
    /// (`i * ((stop - start) / (count - 1)) + start`, last value exactly `stop`).
    public static func linspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map {
            step == 0
                ? Double($0) / Double(count - 1) * (stop - start) + start
                : Double($0) * step + start
        }
        values[count - 1] = stop
        return values
    }

    /// Checks the settings; the message names the offending one.
    public func validate() throws {
        func fail(_ message: String) -> COCOError { COCOError(.invalidParameters, file: nil, message) }
        guard !iouThresholds.isEmpty else { throw fail("IoU thresholds must not be empty") }
        guard iouThresholds.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else {
            throw fail("IoU thresholds must lie in [0, 1], got \(iouThresholds)")
        }
        guard !recallThresholds.isEmpty, recallThresholds.allSatisfy(\.isFinite) else {
            throw fail("recall thresholds must be a non-empty list of finite numbers")
        }
        guard !maxDetections.isEmpty, maxDetections.allSatisfy({ $0 > 0 }) else {
            throw fail("maxDets must be a non-empty list of positive integers, got \(maxDetections)")
        }
        guard !areaRanges.isEmpty, Set(areaRanges.map(\.label)).count == areaRanges.count else {
            throw fail("area ranges must be non-empty with distinct labels")
        }
    }
}
