import Vision

/// Something drawn into a rectangle of a canvas: a line chart, a matrix, a grid of them.
public protocol Chart {
    /// Draws the chart so that it fills `frame`.
    func draw(on canvas: Canvas, in frame: Rect)
}

extension Chart {
    /// The chart alone on a white picture of `width` × `height` pixels.
    public func rendered(width: Int, height: Int) throws -> Image {
        let canvas = try Canvas(width: width, height: height)
        draw(on: canvas, in: canvas.bounds)
        return canvas.image
    }
}

/// Sizes and colours shared by the charts, scaled together by `scale` (1: 13-pixel body text,
/// legible at 100% zoom; 2 for print-sized pictures).
public struct ChartStyle: Sendable, Equatable {
    public var scale: Double

    public init(scale: Double = 1) { self.scale = scale }

    public var titleFont: Font { Font(size: 15 * scale, bold: true) }
    public var subtitleFont: Font { Font(size: 12 * scale) }
    public var labelFont: Font { Font(size: 13 * scale) }
    public var tickFont: Font { Font(size: 11.5 * scale) }
    public var legendFont: Font { Font(size: 12 * scale) }
    public var padding: Double { 10 * scale }
    public var text: Color { Color.gray(0.1) }
    public var mutedText: Color { Color.gray(0.35) }
    public var grid: Color { Color.gray(0.9) }
    public var frame: Color { Color.gray(0.55) }
}

/// One axis of a line chart.
public struct Axis: Sendable, Equatable {
    public var title: String
    /// Shown range; nil: the data's range widened to nice tick values.
    public var range: ClosedRange<Double>?
    /// About how many ticks to show.
    public var tickCount: Int
    /// Ticks only at whole numbers (epochs, counts).
    public var integerTicks: Bool

    public init(_ title: String, range: ClosedRange<Double>? = nil, tickCount: Int = 5, integerTicks: Bool = false) {
        self.title = title
        self.range = range
        self.tickCount = tickCount
        self.integerTicks = integerTicks
    }

    /// The range to show for data spanning `data` (nil: no data).
    func resolvedRange(data: ClosedRange<Double>?) -> ClosedRange<Double> {
        if let range { return range }
        guard let data else { return 0...1 }
        var r = Ticks.niceRange(data, count: tickCount)
        if integerTicks { r = r.lowerBound.rounded(.down)...Swift.max(r.upperBound.rounded(.up), r.lowerBound + 1) }
        return r
    }

    /// The ticks shown over `range`.
    func ticks(_ range: ClosedRange<Double>) -> Ticks {
        var ticks = Ticks(covering: range, count: tickCount)
        if integerTicks && ticks.step < 1 {
            ticks.step = 1
            ticks.values = Array(stride(from: range.lowerBound.rounded(.up), through: range.upperBound, by: 1))
        }
        return ticks
    }
}
