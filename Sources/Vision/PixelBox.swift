/// A box in absolute pixel corners `(x0, y0, x1, y1)` of an image, float32 like the official
/// implementations' tensors (so flips, scales and crops round the same way): ground truth,
/// detections, and what is drawn.
public struct PixelBox: Sendable, Equatable, CustomStringConvertible {
    public var x0: Float
    public var y0: Float
    public var x1: Float
    public var y1: Float

    public init(x0: Float, y0: Float, x1: Float, y1: Float) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }

    public var width: Float { x1 - x0 }
    public var height: Float { y1 - y0 }

    /// DETR's validity rule: positive width and height.
    public var isEmpty: Bool { !(x1 > x0 && y1 > y0) }

    /// `[x0, y0, x1, y1]`, the order of the JSON records and of the official tensors.
    public var corners: [Float] { [x0, y0, x1, y1] }

    public var description: String { "[\(x0), \(y0), \(x1), \(y1)]" }
}
