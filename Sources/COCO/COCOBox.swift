/// A COCO box `[x, y, width, height]` in pixels (x, y = top-left corner).
public struct COCOBox: Sendable, Equatable, Hashable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// From corner coordinates `[x0, y0, x1, y1]`.
    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.init(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// `width * height`, the area pycocotools' `loadRes` gives each result.
    public var area: Double { width * height }

    /// Zero width or height: such a box never overlaps anything.
    public var isDegenerate: Bool { width == 0 || height == 0 }

    /// The box as the four numbers of the COCO format.
    public var array: [Double] { [x, y, width, height] }
}
