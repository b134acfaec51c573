import Graphics
import Testing
import Vision

/// The cairo canvas: pixels in and out unchanged, text that is really drawn (anti-aliased,
/// where it was anchored), boxes with labels on pictures, charts of the requested size.
struct CanvasTests {
    /// The bounding box (x0, y0, x1, y1; exclusive ends) of the pixels that differ from `background`.
    static func inked(_ image: Image, background: (UInt8, UInt8, UInt8) = (255, 255, 255)) -> (Int, Int, Int, Int)? {
        var x0 = Int.max, y0 = Int.max, x1 = -1, y1 = -1
        for y in 0..<image.height {
            for x in 0..<image.width {
                let i = 3 * (y * image.width + x)
                if (image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]) != background {
                    x0 = min(x0, x)
                    y0 = min(y0, y)
                    x1 = max(x1, x + 1)
                    y1 = max(y1, y + 1)
                }
            }
        }
        return x1 < 0 ? nil : (x0, y0, x1, y1)
    }

    @Test func imageRoundTripIsExact() throws {
        var state: UInt32 = 12345
        let pixels = (0..<(37 * 23 * 3)).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let image = Image(width: 37, height: 23, pixels: pixels)
        #expect(try Canvas(image: image).image == image)
        #expect(throws: (any Error).self) { try Canvas(width: 0, height: 10) }
    }

    @Test func textIsAntiAliasedAndAnchored() throws {
        let canvas = try Canvas(width: 300, height: 120)
        let font = Font(size: 24)
        let size = canvas.measure("Precision", font)
        #expect(size.width > 80 && size.width < 160, "width \(size.width): no font found?")
        #expect(size.ascent > 15 && size.descent > 3)
        canvas.text("Precision", at: Point(150, 60), font, .black, anchor: .center)
        let image = canvas.image
        let (x0, y0, x1, y1) = try #require(Self.inked(image))
        // Centred horizontally on 150 (within a pixel or two of side bearings).
        #expect(abs(Double(x0 + x1) / 2 - 150) <= 2)
        #expect(abs(Double(x1 - x0) - size.width) <= 4)
        // Within the font box around y = 60.
        #expect(Double(y0) >= 60 - size.height / 2 - 1 && Double(y1) <= 60 + size.height / 2 + 1)
        // Anti-aliased: many grey levels, not just black and white.
        var levels = Set<UInt8>()
        for i in stride(from: 0, to: image.pixels.count, by: 3) { levels.insert(image.pixels[i]) }
        #expect(levels.count > 20)
    }

    @Test func labeledBoxesOnAPicture() throws {
        let picture = Image(width: 200, height: 120, fill: (0, 0, 0))
        let red = Color(red: 1, green: 0, blue: 0)
        let drawn = picture.annotated(with: [
            LabeledBox(box: Rect(x0: 50, y0: 50, x1: 150, y1: 110), label: "car", color: red)
        ])
        #expect(drawn.width == 200 && drawn.height == 120)
        func pixel(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
            let i = 3 * (y * 200 + x)
            return (drawn.pixels[i], drawn.pixels[i + 1], drawn.pixels[i + 2])
        }
        // The outline on the box's bottom edge and its left edge; the inside untouched.
        #expect(pixel(100, 110).0 > 200 && pixel(100, 110).1 < 60)
        #expect(pixel(50, 80).0 > 200)
        #expect(pixel(100, 80) == (0, 0, 0))
        // The label tab sits above the top edge: red fill with white text in it.
        let tab = (35..<48).flatMap { y in (50..<80).map { x in pixel(x, y) } }
        #expect(tab.contains { $0 == (255, 0, 0) })
        #expect(tab.contains { $0.1 > 200 && $0.2 > 200 })
        // At the top edge of the picture the tab goes inside the box.
        let top = picture.annotated(with: [
            LabeledBox(box: Rect(x0: 10, y0: 0, x1: 100, y1: 60), label: "car", color: red)
        ])
        #expect(
            (5..<15).allSatisfy { y in top.pixels[3 * (y * 200 + 11)] == 255 && top.pixels[3 * (y * 200 + 11) + 1] == 0
            })
    }

    @Test func chartsRenderAtTheRequestedSize() throws {
        let line = LineChart(
            title: "loss", x: Axis("step"), y: Axis("value"),
            series: [
                LineChart.Series(
                    name: "run", points: (0..<50).map { Point(Double($0), 1 / Double($0 + 1)) }, color: .black)
            ])
        let image = try line.rendered(width: 480, height: 320)
        #expect(image.width == 480 && image.height == 320)
        #expect(Self.inked(image) != nil)
        let matrix = MatrixChart(
            title: "m", rowTitle: "rows", columnTitle: "columns", rowLabels: ["a", "b"], columnLabels: ["a", "b"],
            cellText: [["1", ""], ["", "2"]], shades: [[1, 0], [0, nil]], shadeTitle: "share")
        let figure = Figure(title: "both", panels: [line, matrix], columns: 2)
        let both = try figure.rendered(panelWidth: 300, panelHeight: 240)
        #expect(both.width == 600 && both.height > 240)
    }
}

/// Labels of boxes that share a corner do not cover each other, stay inside the picture, and a
/// box alone keeps its label above its top-left corner.
@Test func labelTabsAvoidEachOtherAndStayInside() throws {
    let canvas = try Canvas(width: 200, height: 120)
    let style = BoxStyle(font: Font(size: 13), lineWidth: 2)
    let boxes = [
        LabeledBox(corners: [20, 40, 120, 100], label: "first 0.40", color: Color.forClass(1)),
        LabeledBox(corners: [20, 40, 180, 110], label: "second 0.90", color: Color.forClass(2)),
        LabeledBox(corners: [150, 0, 199, 30], label: "edge 0.50", color: Color.forClass(3)),
    ]
    let tabs = canvas.labelTabs(for: boxes, style: style, within: canvas.bounds).map { try! #require($0).rect }
    for (i, a) in tabs.enumerated() {
        #expect(a.minX >= 0 && a.minY >= 0 && a.maxX <= 200 && a.maxY <= 120, "tab \(i) leaves the picture: \(a)")
        for b in tabs[(i + 1)...] { #expect(!a.intersects(b), "\(a) covers \(b)") }
    }
    // The best (last) box chose first: its label sits above its top-left corner.
    #expect(tabs[1].maxY <= 40 && abs(tabs[1].minX - 19) < 1e-9)
    let alone = canvas.labelTabs(for: [boxes[0]], style: style, within: canvas.bounds)[0]!.rect
    #expect(alone.maxY <= 40)
}
