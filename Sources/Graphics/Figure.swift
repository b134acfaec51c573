import Vision

/// Several charts in a grid of equal cells, row by row, under an optional title.
public struct Figure: Chart {
    public var title: String?
    public var subtitle: String?
    public var panels: [any Chart]
    public var columns: Int
    public var style: ChartStyle

    public init(
        title: String? = nil, subtitle: String? = nil, panels: [any Chart], columns: Int,
        style: ChartStyle = ChartStyle()
    ) {
        self.title = title
        self.subtitle = subtitle
        self.panels = panels
        self.columns = Swift.max(1, columns)
        self.style = style
    }

    /// Rows of the grid.
    public var rows: Int { (panels.count + columns - 1) / columns }

    public func draw(on canvas: Canvas, in frame: Rect) {
        var area = frame
        if let header {
            area = header.draw(
                on: canvas, in: frame.inset(top: style.padding, left: style.padding, right: style.padding))
        }
        guard !panels.isEmpty else { return }
        let width = area.width / Double(columns), height = area.height / Double(rows)
        for (i, panel) in panels.enumerated() {
            let cell = Rect(
                x: area.minX + Double(i % columns) * width, y: area.minY + Double(i / columns) * height, width: width,
                height: height)
            panel.draw(on: canvas, in: cell)
        }
    }

    /// The title and subtitle, a little larger than the panels' titles.
    var header: ChartHeader? {
        guard title != nil || subtitle != nil else { return nil }
        return ChartHeader(title: title ?? "", subtitle: subtitle, style: ChartStyle(scale: style.scale * 1.15))
    }

    /// The figure with each panel `panelWidth` × `panelHeight` pixels (plus the title's height).
    public func rendered(panelWidth: Int, panelHeight: Int) throws -> Image {
        var headerHeight = 0.0
        if let header {
            let probe = try Canvas(width: 1, height: 1)
            headerHeight = style.padding + header.height(on: probe)
        }
        return try rendered(width: columns * panelWidth, height: rows * panelHeight + Int(headerHeight.rounded(.up)))
    }
}
