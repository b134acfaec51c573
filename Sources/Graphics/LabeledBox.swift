import Vision

/// A box to draw on a picture, with its label on a tab of the box's colour.
public struct LabeledBox: Sendable, Equatable {
    /// Corners in pixels of the picture drawn on.
    public var box: Rect
    /// The tab's text ("" draws no tab).
    public var label: String
    public var color: Color
    /// A dashed outline (e.g. crowd regions, which are not single objects).
    public var dashed: Bool
    /// Opacity of a fill of the box's colour inside it (0: none).
    public var fillOpacity: Double

    public init(box: Rect, label: String, color: Color, dashed: Bool = false, fillOpacity: Double = 0) {
        self.box = box
        self.label = label
        self.color = color
        self.dashed = dashed
        self.fillOpacity = fillOpacity
    }

    /// From corner coordinates `[x0, y0, x1, y1]`.
    public init(corners: [Float], label: String, color: Color, dashed: Bool = false, fillOpacity: Double = 0) {
        precondition(corners.count == 4, "LabeledBox: 4 corner coordinates, got \(corners.count)")
        self.init(
            box: Rect(x0: Double(corners[0]), y0: Double(corners[1]), x1: Double(corners[2]), y1: Double(corners[3])),
            label: label, color: color, dashed: dashed, fillOpacity: fillOpacity)
    }
}

/// Line width and text size of labelled boxes for a picture of a given size: both grow with
/// the picture so labels stay readable from thumbnails to 4K (13-pixel text up to 650 pixels
/// per side on average, then 2% of the mean side: 30 pixels on 1920×1080).
public struct BoxStyle: Sendable, Equatable {
    public var font: Font
    public var lineWidth: Double

    public init(font: Font, lineWidth: Double) {
        self.font = font
        self.lineWidth = lineWidth
    }

    /// Space between a label's text and the edges of its tab.
    var tabPadding: (x: Double, y: Double) { (0.3 * font.size, 0.12 * font.size) }

    public init(pictureWidth: Int, pictureHeight: Int) {
        let size = Swift.max(13, 0.02 * Double(pictureWidth + pictureHeight) / 2)
        self.init(font: Font(size: size), lineWidth: Swift.max(1.5, size / 8))
    }
}

extension Canvas {
    /// Draws `boxes` in order (later ones on top): outlines first, then every label, so no
    /// outline crosses a label. Labels are kept inside `area` (default: the whole canvas) and,
    /// where one of the places beside its box is free, off the labels already placed: the later
    /// boxes (the best detections, when drawn in ascending score) choose first.
    public func draw(_ boxes: [LabeledBox], style: BoxStyle, within area: Rect? = nil) {
        let area = area ?? bounds
        for b in boxes {
            if b.fillOpacity > 0 { fill(b.box, b.color.opacity(b.fillOpacity)) }
            stroke(b.box, b.color, width: style.lineWidth, dash: dash(b, style))
        }
        let tabs = labelTabs(for: boxes, style: style, within: area)
        for (b, tab) in zip(boxes, tabs) {
            guard let tab else { continue }
            let (padX, padY) = style.tabPadding
            fill(tab.rect, b.color.opacity(1))
            text(tab.text, at: Point(tab.rect.x + padX, tab.rect.y + padY), style.font, b.color.ink)
        }
    }

    private func dash(_ b: LabeledBox, _ style: BoxStyle) -> [Double] {
        b.dashed ? [4 * style.lineWidth, 2.5 * style.lineWidth] : []
    }

    /// Where each box's label tab goes (nil for an empty label), and its text (truncated to the
    /// area's width). The places tried, in order: above the box's top-left corner (where there is
    /// room), inside it under its top edge, below its bottom edge, inside it over its bottom edge;
    /// each shifted to stay in `area`. The first that overlaps no tab placed before wins (boxes are placed last
    /// to first); when all overlap, the first.
    public func labelTabs(
        for boxes: [LabeledBox], style: BoxStyle, within area: Rect
    ) -> [(rect: Rect, text: String)?] {
        var placed: [Rect] = []
        var tabs = [(rect: Rect, text: String)?](repeating: nil, count: boxes.count)
        for index in boxes.indices.reversed() where !boxes[index].label.isEmpty {
            let b = boxes[index]
            let shown = truncated(b.label, style.font, toWidth: area.width - 4)
            let size = measure(shown, style.font)
            let pad = style.tabPadding
            let width = size.width + 2 * pad.x, height = size.height + 2 * pad.y
            let half = style.lineWidth / 2
            let x = Swift.max(area.minX, Swift.min(b.box.minX - half, area.maxX - width))
            func at(_ y: Double) -> Rect {
                Rect(x: x, y: Swift.max(area.minY, Swift.min(y, area.maxY - height)), width: width, height: height)
            }
            let above = b.box.minY - half - height
            let candidates =
                ((above >= area.minY ? [above] : []) + [
                    b.box.minY + half, b.box.maxY + half, b.box.maxY - half - height,
                ]).map(at)
            let rect = candidates.first { c in !placed.contains { $0.intersects(c) } } ?? candidates[0]
            placed.append(rect)
            tabs[index] = (rect, shown)
        }
        return tabs
    }
}

extension Image {
    /// This picture with `boxes` drawn (sizes from `BoxStyle(pictureWidth:pictureHeight:)`).
    /// A picture cairo cannot hold (a side over `Canvas.maximumSide`) is returned undrawn.
    public func annotated(with boxes: [LabeledBox]) -> Image {
        guard let canvas = try? Canvas(image: self) else { return self }
        canvas.draw(boxes, style: BoxStyle(pictureWidth: width, pictureHeight: height))
        return canvas.image
    }
}
