/// Simple raster drawing on RGB images: boxes, filled rectangles, text.
extension Image {
    /// An RGB colour.
    public typealias Color = (r: UInt8, g: UInt8, b: UInt8)

    /// Sets pixel (x, y) when inside the image.
    @inline(__always) mutating func plot(_ x: Int, _ y: Int, _ c: Color) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = 3 * (y * width + x)
        pixels[i] = c.r
        pixels[i + 1] = c.g
        pixels[i + 2] = c.b
    }

    /// Fills the rectangle [x0, x1) × [y0, y1), clipped to the image.
    public mutating func fillRect(x0: Int, y0: Int, x1: Int, y1: Int, color: Color) {
        let xa = Swift.max(0, x0), xb = Swift.min(width, x1), ya = Swift.max(0, y0), yb = Swift.min(height, y1)
        guard xa < xb, ya < yb else { return }
        for y in ya..<yb { for x in xa..<xb { plot(x, y, color) } }
    }

    /// Outline of a box (pixel coordinates, xyxy) with the given line thickness, drawn inward.
    public mutating func strokeRect(x0: Double, y0: Double, x1: Double, y1: Double, thickness: Int, color: Color) {
        let l = Int(x0.rounded()), t = Int(y0.rounded()), r = Int(x1.rounded()), b = Int(y1.rounded())
        let th = Swift.max(1, thickness)
        fillRect(x0: l, y0: t, x1: r + 1, y1: t + th, color: color)
        fillRect(x0: l, y0: b - th + 1, x1: r + 1, y1: b + 1, color: color)
        fillRect(x0: l, y0: t, x1: l + th, y1: b + 1, color: color)
        fillRect(x0: r - th + 1, y0: t, x1: r + 1, y1: b + 1, color: color)
    }

    /// Draws `text` with its top-left corner at (x, y), each font pixel a `scale`×`scale` block.
    public mutating func drawText(
        _ text: String, x: Int, y: Int, scale: Int = 1, color: Color,
        font: BitmapFont = .standard
    ) {
        for (i, ch) in text.enumerated() {
            let gx = x + i * font.glyphWidth * scale
            for fy in 0..<font.glyphHeight {
                for fx in 0..<font.glyphWidth where font.isSet(ch, x: fx, y: fy) {
                    fillRect(
                        x0: gx + fx * scale, y0: y + fy * scale, x1: gx + (fx + 1) * scale,
                        y1: y + (fy + 1) * scale, color: color)
                }
            }
        }
    }

    /// A labelled detection box: class-coloured outline, and the label on a filled tab above
    /// the box (inside it when the box touches the top edge). Line width and text size scale
    /// with the image so pictures stay legible from thumbnails to 4K.
    public mutating func drawDetection(box: [Float], label: String, color: Color) {
        guard box.count == 4 else { return }
        let side = Swift.min(width, height)
        let thickness = Swift.max(1, side / 300)
        let scale = Swift.max(1, side / 500)
        strokeRect(
            x0: Double(box[0]), y0: Double(box[1]), x1: Double(box[2]), y1: Double(box[3]),
            thickness: thickness, color: color)
        let font = BitmapFont.standard
        let (tw, th) = font.size(of: label, scale: scale)
        let pad = scale
        var tx = Int(box[0].rounded()), ty = Int(box[1].rounded()) - th - 2 * pad
        if ty < 0 { ty = Swift.max(0, Int(box[1].rounded()) + thickness) }
        tx = Swift.max(0, Swift.min(tx, width - tw - 2 * pad))
        fillRect(x0: tx, y0: ty, x1: tx + tw + 2 * pad, y1: ty + th + 2 * pad, color: color)
        // Black or white text, whichever contrasts with the tab.
        let luma = 0.299 * Double(color.r) + 0.587 * Double(color.g) + 0.114 * Double(color.b)
        let ink: Color = luma > 140 ? (0, 0, 0) : (255, 255, 255)
        drawText(label, x: tx + pad, y: ty + pad, scale: scale, color: ink, font: font)
    }

    /// A distinct, stable colour for class `index` (golden-ratio hue walk).
    public static func classColor(_ index: Int) -> Color {
        let h = (Double(index) * 0.618033988749895).truncatingRemainder(dividingBy: 1)
        let s = 0.75, v = 0.95
        let i = Int(h * 6), f = h * 6 - Double(i)
        let p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s)
        let (r, g, b): (Double, Double, Double)
        switch i % 6 {
        case 0: (r, g, b) = (v, t, p)
        case 1: (r, g, b) = (q, v, p)
        case 2: (r, g, b) = (p, v, t)
        case 3: (r, g, b) = (p, q, v)
        case 4: (r, g, b) = (t, p, v)
        default: (r, g, b) = (v, p, q)
        }
        return (UInt8(r * 255), UInt8(g * 255), UInt8(b * 255))
    }
}
