/// A chart legend: one row per named series (a sample of its line or marker, then its name),
/// on a translucent white box in the corner of the plot area that hides the least data.
struct LegendBox {
    let entries: [LineChart.Series]
    let style: ChartStyle

    func draw(on canvas: Canvas, in plot: Rect, avoiding lines: [[Point]]) {
        guard !entries.isEmpty else { return }
        let s = style
        let font = s.legendFont
        let rowHeight = canvas.measure("0", font).height + 3 * s.scale
        let sample = 24 * s.scale, gap = 6 * s.scale, pad = 7 * s.scale, margin = 8 * s.scale
        let maxTextWidth = Swift.max(20, plot.width * 0.6 - sample - gap - 2 * pad)
        // As many rows as fit in the plot area; the rest summarised in a last row.
        let fitting = Swift.max(1, Int((plot.height - 2 * margin - 2 * pad) / rowHeight))
        var rows = entries.map { (canvas.truncated($0.name ?? "", font, toWidth: maxTextWidth), Optional($0)) }
        if rows.count > fitting {
            let hidden = rows.count - (fitting - 1)
            rows = Array(rows.prefix(fitting - 1)) + [("… \(hidden) more", nil)]
        }
        let textWidth = rows.map { canvas.measure($0.0, font).width }.max() ?? 0
        let width = pad + sample + gap + textWidth + pad
        let height = 2 * pad + Double(rows.count) * rowHeight - 3 * s.scale
        let candidates = [
            Rect(x: plot.maxX - margin - width, y: plot.minY + margin, width: width, height: height),
            Rect(x: plot.minX + margin, y: plot.maxY - margin - height, width: width, height: height),
            Rect(x: plot.minX + margin, y: plot.minY + margin, width: width, height: height),
            Rect(x: plot.maxX - margin - width, y: plot.maxY - margin - height, width: width, height: height),
        ]
        let box = candidates.min { covered(by: $0, lines) < covered(by: $1, lines) }!
        canvas.fill(box, Color.white.opacity(0.88))
        canvas.stroke(
            Rect(
                x0: Canvas.snap(box.minX), y0: Canvas.snap(box.minY), x1: Canvas.snap(box.maxX),
                y1: Canvas.snap(box.maxY)), Color.gray(0.8))
        for (i, row) in rows.enumerated() {
            let cy = box.minY + pad + (Double(i) + 0.5) * rowHeight - 1.5 * s.scale
            if let series = row.1 {
                let a = Point(box.minX + pad, cy), b = Point(box.minX + pad + sample, cy)
                if series.lineWidth > 0 {
                    canvas.line(
                        from: a, to: b, series.color, width: Swift.max(series.lineWidth, 1.5) * s.scale,
                        dash: series.dash.map { $0 * s.scale })
                }
                if series.markers {
                    canvas.disc(
                        center: Point((a.x + b.x) / 2, cy), radius: 3 * s.scale, series.color, outline: .white,
                        outlineWidth: s.scale)
                }
            }
            canvas.text(row.0, at: Point(box.minX + pad + sample + gap, cy), font, s.text, anchor: .left)
        }
    }

    /// How much of the drawn data lies under `box`: polyline samples every 3 pixels inside it.
    func covered(by box: Rect, _ lines: [[Point]]) -> Int {
        var count = 0
        for line in lines {
            var previous: Point?
            for p in line {
                guard p.x.isFinite, p.y.isFinite else {
                    previous = nil
                    continue
                }
                if let a = previous {
                    let length = ((p.x - a.x) * (p.x - a.x) + (p.y - a.y) * (p.y - a.y)).squareRoot()
                    let steps = Swift.max(1, Swift.min(200, Int(length / 3)))
                    for k in 1...steps {
                        let t = Double(k) / Double(steps)
                        if box.contains(Point(a.x + (p.x - a.x) * t, a.y + (p.y - a.y) * t)) { count += 1 }
                    }
                } else if box.contains(p) {
                    count += 1
                }
                previous = p
            }
        }
        return count
    }
}
