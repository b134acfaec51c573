/// A matrix of square cells shaded by a value in [0, 1] (white to dark blue) with text in
/// each cell (counts), labelled rows and columns, axis titles and a colour bar.
public struct MatrixChart: Chart {
    public var title: String
    public var subtitle: String?
    /// What the rows and the columns are (e.g. "ground truth", "predicted").
    public var rowTitle: String
    public var columnTitle: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// Text in each cell `[row][column]` ("" leaves the cell blank); drawn when it fits.
    public var cellText: [[String]]
    /// Shade of each cell `[row][column]` in [0, 1]; nil: not applicable (light grey).
    public var shades: [[Double?]]
    /// What the shade means, written beside the colour bar.
    public var shadeTitle: String
    /// A heavier line before the last row and the last column (e.g. to set apart "background").
    public var dividerBeforeLast: Bool
    public var style: ChartStyle

    public init(
        title: String, subtitle: String? = nil, rowTitle: String, columnTitle: String, rowLabels: [String],
        columnLabels: [String], cellText: [[String]], shades: [[Double?]], shadeTitle: String,
        dividerBeforeLast: Bool = false, style: ChartStyle = ChartStyle()
    ) {
        precondition(cellText.count == rowLabels.count && shades.count == rowLabels.count, "MatrixChart: row count")
        precondition(
            cellText.allSatisfy { $0.count == columnLabels.count }
                && shades.allSatisfy { $0.count == columnLabels.count },
            "MatrixChart: column count")
        self.title = title
        self.subtitle = subtitle
        self.rowTitle = rowTitle
        self.columnTitle = columnTitle
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.cellText = cellText
        self.shades = shades
        self.shadeTitle = shadeTitle
        self.dividerBeforeLast = dividerBeforeLast
        self.style = style
    }

    public func draw(on canvas: Canvas, in frame: Rect) {
        let s = style
        var area = frame.inset(by: s.padding)
        area = ChartHeader(title: title, subtitle: subtitle, style: s).draw(on: canvas, in: area)
        let rows = rowLabels.count, columns = columnLabels.count
        guard rows > 0, columns > 0 else { return }
        let font = s.tickFont, gap = 6 * s.scale
        let titleHeight = canvas.measure("0", s.labelFont).height
        let maxLabel = 150 * s.scale
        let rowLabelWidth = Swift.min(maxLabel, rowLabels.map { canvas.measure($0, font).width }.max() ?? 0)
        let columnLabelWidth = Swift.min(maxLabel, columnLabels.map { canvas.measure($0, font).width }.max() ?? 0)
        let labelHeight = canvas.measure("0", font).height
        let barWidth = 14 * s.scale, barLabels = canvas.measure("100%", font).width
        let barArea = gap * 3 + barWidth + gap + barLabels + titleHeight

        // Cell size: the largest square cells that fit beside the labels; column labels are
        // written across when they fit in a cell, otherwise turned to read upwards.
        let gridLeft = area.minX + titleHeight + gap + rowLabelWidth + gap
        let availableWidth = area.maxX - barArea - gridLeft
        func cellSize(columnLabelsHeight: Double) -> Double {
            let availableHeight = area.maxY - area.minY - columnLabelsHeight - gap - titleHeight - gap
            return Swift.max(
                4, Swift.min(availableWidth / Double(columns), availableHeight / Double(rows), 90 * s.scale))
        }
        var cell = cellSize(columnLabelsHeight: labelHeight)
        let upright = columnLabelWidth > cell - 4 * s.scale
        if upright { cell = cellSize(columnLabelsHeight: columnLabelWidth) }
        let grid = Rect(x: gridLeft, y: area.minY, width: cell * Double(columns), height: cell * Double(rows))

        let cellFont = font.sized(Swift.min(font.size, cell * 0.36))
        for r in 0..<rows {
            for c in 0..<columns {
                let rect = Rect(
                    x: grid.minX + Double(c) * cell, y: grid.minY + Double(r) * cell, width: cell, height: cell)
                let fill = shades[r][c].map(Color.sequential) ?? Color.gray(0.94)
                canvas.fill(rect, fill)
                let text = cellText[r][c]
                // Text below 7 pixels cannot be read: such cells (large matrices) show shades only.
                if !text.isEmpty, cellFont.size >= 7 * s.scale,
                    canvas.measure(text, cellFont).width <= cell - 3 * s.scale
                {
                    canvas.text(text, at: rect.center, cellFont, fill.ink, anchor: .center)
                }
            }
        }
        // Thin white lines between cells, a frame, and the divider.
        for c in 1..<Swift.max(1, columns) {
            let x = grid.minX + Double(c) * cell
            canvas.line(from: Point(x, grid.minY), to: Point(x, grid.maxY), .white, width: Swift.max(1, cell * 0.04))
        }
        for r in 1..<Swift.max(1, rows) {
            let y = grid.minY + Double(r) * cell
            canvas.line(from: Point(grid.minX, y), to: Point(grid.maxX, y), .white, width: Swift.max(1, cell * 0.04))
        }
        if dividerBeforeLast && rows > 1 && columns > 1 {
            let x = grid.minX + Double(columns - 1) * cell, y = grid.minY + Double(rows - 1) * cell
            canvas.line(from: Point(x, grid.minY), to: Point(x, grid.maxY), s.frame, width: 1.5 * s.scale)
            canvas.line(from: Point(grid.minX, y), to: Point(grid.maxX, y), s.frame, width: 1.5 * s.scale)
        }
        canvas.stroke(grid, s.frame)

        // Row labels at the left, column labels below, axis titles outside them.
        let rowFont = font.sized(Swift.min(font.size, cell * 0.8))
        for (r, label) in rowLabels.enumerated() {
            let text = canvas.truncated(label, rowFont, toWidth: maxLabel)
            canvas.text(
                text, at: Point(grid.minX - gap, grid.minY + (Double(r) + 0.5) * cell), rowFont, s.text, anchor: .right)
        }
        for (c, label) in columnLabels.enumerated() {
            let text = canvas.truncated(label, rowFont, toWidth: maxLabel)
            let x = grid.minX + (Double(c) + 0.5) * cell
            if upright {
                canvas.text(
                    text, at: Point(x, grid.maxY + gap), rowFont, s.text, anchor: .right, rotation: Double.pi / 2)
            } else {
                canvas.text(text, at: Point(x, grid.maxY + gap), rowFont, s.text, anchor: .top)
            }
        }
        let labelsBottom = grid.maxY + gap + (upright ? columnLabelWidth : labelHeight)
        canvas.text(columnTitle, at: Point(grid.center.x, labelsBottom + gap), s.labelFont, s.text, anchor: .top)
        canvas.text(
            rowTitle, at: Point(area.minX, grid.center.y), s.labelFont, s.text, anchor: .top, rotation: Double.pi / 2)

        // Colour bar: 0 at the bottom, 100% at the top.
        let bar = Rect(
            x: grid.maxX + 3 * gap, y: grid.minY, width: barWidth, height: Swift.min(grid.height, 240 * s.scale))
        let steps = 64
        for i in 0..<steps {
            let t0 = Double(i) / Double(steps)
            let slice = Rect(
                x: bar.minX, y: bar.maxY - (t0 + 1 / Double(steps)) * bar.height, width: bar.width,
                height: bar.height / Double(steps) + 0.5)
            canvas.fill(slice, Color.sequential(t0 + 0.5 / Double(steps)))
        }
        canvas.stroke(bar, s.frame)
        for (t, label) in [(0.0, "0"), (0.5, "50%"), (1.0, "100%")] {
            canvas.text(label, at: Point(bar.maxX + gap / 2, bar.maxY - t * bar.height), font, s.text, anchor: .left)
        }
        canvas.text(
            canvas.truncated(shadeTitle, s.labelFont, toWidth: bar.height),
            at: Point(bar.maxX + gap + barLabels + gap, bar.center.y), s.labelFont, s.mutedText, anchor: .top,
            rotation: Double.pi / 2)
    }
}
