/// A chart of lines (and optional point markers) over two linear axes, with a title, grid,
/// ticks, axis titles and a legend placed where it hides the fewest data points.
public struct LineChart: Chart {
    /// One line of the chart, in data coordinates.
    public struct Series: Sendable {
        /// The legend entry; nil leaves the series out of the legend.
        public var name: String?
        /// Points in drawing order; a non-finite coordinate breaks the line.
        public var points: [Point]
        public var color: Color
        /// Line width in pixels at scale 1 (0: markers only).
        public var lineWidth: Double
        /// Alternating drawn and skipped lengths (pixels at scale 1); empty: solid.
        public var dash: [Double]
        public var markers: Bool

        public init(
            name: String?, points: [Point], color: Color, lineWidth: Double = 2, dash: [Double] = [],
            markers: Bool = false
        ) {
            self.name = name
            self.points = points
            self.color = color
            self.lineWidth = lineWidth
            self.dash = dash
            self.markers = markers
        }
    }

    /// Where the legend goes.
    public enum Legend: Sendable, Equatable {
        /// The inner corner of the plot area that covers the fewest data points.
        case auto
        case none
    }

    public var title: String
    /// A second, smaller line under the title (e.g. what the numbers mean).
    public var subtitle: String?
    public var x: Axis
    public var y: Axis
    public var series: [Series]
    public var legend: Legend
    /// Text shown in the middle of the plot area (e.g. "no data").
    public var note: String?
    public var style: ChartStyle

    public init(
        title: String, subtitle: String? = nil, x: Axis, y: Axis, series: [Series], legend: Legend = .auto,
        note: String? = nil, style: ChartStyle = ChartStyle()
    ) {
        self.title = title
        self.subtitle = subtitle
        self.x = x
        self.y = y
        self.series = series
        self.legend = legend
        self.note = note
        self.style = style
    }

    /// The smallest range holding every finite coordinate selected by `coordinate`; nil without any.
    static func dataRange(_ series: [Series], _ coordinate: (Point) -> Double) -> ClosedRange<Double>? {
        var lo = Double.infinity, hi = -Double.infinity
        for s in series {
            for p in s.points where p.x.isFinite && p.y.isFinite {
                let v = coordinate(p)
                lo = Swift.min(lo, v)
                hi = Swift.max(hi, v)
            }
        }
        return lo <= hi ? lo...hi : nil
    }

    public func draw(on canvas: Canvas, in frame: Rect) {
        let s = style
        var area = frame.inset(by: s.padding)
        area = ChartHeader(title: title, subtitle: subtitle, style: s).draw(on: canvas, in: area)

        let xRange = x.resolvedRange(data: Self.dataRange(series) { $0.x })
        let yRange = y.resolvedRange(data: Self.dataRange(series) { $0.y })
        let xTicks = x.ticks(xRange), yTicks = y.ticks(yRange)
        let tickLength = 4 * s.scale, gap = 4 * s.scale
        let tickHeight = canvas.measure("0", s.tickFont).height
        let labelHeight = canvas.measure("0", s.labelFont).height
        let yLabelWidth = yTicks.values.map { canvas.measure(yTicks.label($0), s.tickFont).width }.max() ?? 0
        let lastXLabel = xTicks.values.last.map { canvas.measure(xTicks.label($0), s.tickFont).width } ?? 0
        let left = area.x + (y.title.isEmpty ? 0 : labelHeight + gap) + yLabelWidth + tickLength + gap
        let bottom = area.maxY - (x.title.isEmpty ? 0 : labelHeight + gap) - tickHeight - tickLength - gap
        let right = area.maxX - Swift.max(lastXLabel / 2, 2 * s.scale)
        let plot = Rect(x0: left, y0: area.y + tickHeight / 2, x1: right, y1: bottom)
        guard plot.width > 10, plot.height > 10 else { return }

        let mapping = PlotMapping(plot: plot, xRange: xRange, yRange: yRange)
        // Grid and frame.
        for v in xTicks.values {
            let px = Canvas.snap(mapping.x(v))
            canvas.line(from: Point(px, plot.minY), to: Point(px, plot.maxY), s.grid)
        }
        for v in yTicks.values {
            let py = Canvas.snap(mapping.y(v))
            canvas.line(from: Point(plot.minX, py), to: Point(plot.maxX, py), s.grid)
        }
        let framed = Rect(
            x0: Canvas.snap(plot.minX), y0: Canvas.snap(plot.minY), x1: Canvas.snap(plot.maxX),
            y1: Canvas.snap(plot.maxY))
        canvas.stroke(framed, s.frame)
        // Ticks and their labels.
        for v in xTicks.values {
            let px = Canvas.snap(mapping.x(v))
            canvas.line(from: Point(px, framed.maxY), to: Point(px, framed.maxY + tickLength), s.frame)
            canvas.text(
                xTicks.label(v), at: Point(px, framed.maxY + tickLength + gap / 2), s.tickFont, s.text, anchor: .top)
        }
        for v in yTicks.values {
            let py = Canvas.snap(mapping.y(v))
            canvas.line(from: Point(framed.minX - tickLength, py), to: Point(framed.minX, py), s.frame)
            canvas.text(
                yTicks.label(v), at: Point(framed.minX - tickLength - gap / 2, py), s.tickFont, s.text, anchor: .right)
        }
        if !x.title.isEmpty {
            canvas.text(
                canvas.truncated(x.title, s.labelFont, toWidth: plot.width), at: Point(plot.center.x, area.maxY),
                s.labelFont, s.text, anchor: .bottom)
        }
        if !y.title.isEmpty {
            canvas.text(
                canvas.truncated(y.title, s.labelFont, toWidth: plot.height), at: Point(area.x, plot.center.y),
                s.labelFont, s.text, anchor: .top, rotation: Double.pi / 2)
        }

        // The data, clipped to the plot area (with room for a line on its edge).
        canvas.clipped(to: plot.inset(by: -5 * s.scale)) {
            for series in self.series {
                let pixels = series.points.map(mapping.point)
                if series.lineWidth > 0 {
                    canvas.polyline(
                        pixels, series.color, width: series.lineWidth * s.scale, dash: series.dash.map { $0 * s.scale })
                }
                if series.markers {
                    for p in pixels where p.x.isFinite && p.y.isFinite {
                        canvas.disc(
                            center: p, radius: 3 * s.scale, series.color, outline: .white, outlineWidth: s.scale)
                    }
                }
            }
        }
        if let note {
            canvas.text(
                canvas.truncated(note, s.labelFont, toWidth: plot.width - 8 * s.scale), at: plot.center, s.labelFont,
                s.mutedText, anchor: .center)
        }
        if legend == .auto {
            LegendBox(entries: series.filter { $0.name != nil }, style: s)
                .draw(on: canvas, in: plot, avoiding: series.map { $0.points.map(mapping.point) })
        }
    }
}

/// Data coordinates → pixels of a plot area.
struct PlotMapping {
    let plot: Rect
    let xRange: ClosedRange<Double>
    let yRange: ClosedRange<Double>

    func x(_ v: Double) -> Double {
        plot.minX + (v - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * plot.width
    }

    func y(_ v: Double) -> Double {
        plot.maxY - (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * plot.height
    }
    func point(_ p: Point) -> Point { Point(x(p.x), y(p.y)) }
}

/// A chart's title and subtitle, centred at the top of its area.
struct ChartHeader {
    let title: String
    let subtitle: String?
    let style: ChartStyle

    /// The height the header takes (0 without title and subtitle).
    func height(on canvas: Canvas) -> Double {
        var h = 0.0
        if !title.isEmpty { h += canvas.measure(title, style.titleFont).height }
        if let subtitle, !subtitle.isEmpty {
            h += 2 * style.scale + canvas.measure(subtitle, style.subtitleFont).height
        }
        return h > 0 ? h + 6 * style.scale : 0
    }

    /// Draws the header; returns the area left below it.
    func draw(on canvas: Canvas, in area: Rect) -> Rect {
        var top = area.y
        if !title.isEmpty {
            let text = canvas.truncated(title, style.titleFont, toWidth: area.width)
            top += canvas.text(text, at: Point(area.center.x, top), style.titleFont, style.text, anchor: .top).height
        }
        if let subtitle, !subtitle.isEmpty {
            let text = canvas.truncated(subtitle, style.subtitleFont, toWidth: area.width)
            top += 2 * style.scale
            top +=
                canvas.text(text, at: Point(area.center.x, top), style.subtitleFont, style.mutedText, anchor: .top)
                .height
        }
        if top > area.y { top += 6 * style.scale }
        return Rect(x0: area.minX, y0: top, x1: area.maxX, y1: area.maxY)
    }
}
