import CCairo
import Diagnostics
import Vision

/// A picture being drawn: a cairo RGB image surface (anti-aliased paths and text) that starts
/// blank or as a copy of an `Image` and ends as an `Image` again.
///
/// Coordinates are pixels with (0, 0) at the top-left corner of the top-left pixel. A canvas
/// is one picture for one thread; separate canvases may be drawn on concurrently.
public final class Canvas {
    public let width: Int
    public let height: Int
    let surface: OpaquePointer
    let context: OpaquePointer

    /// cairo image surfaces are at most this many pixels wide and high.
    public static let maximumSide = 32767

    /// A canvas filled with `background`.
    /// - Throws: `FileError` (subject "canvas") for a size cairo cannot allocate.
    public init(width: Int, height: Int, background: Color = .white) throws {
        guard width > 0, height > 0, width <= Self.maximumSide, height <= Self.maximumSide else {
            throw FileError(
                file: "canvas", problem: "cannot draw on \(width)x\(height) pixels (1 to \(Self.maximumSide) per side)")
        }
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))!
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            let reason = String(cString: cairo_status_to_string(cairo_surface_status(surface)))
            cairo_surface_destroy(surface)
            throw FileError(file: "canvas", problem: "cairo cannot create a \(width)x\(height) surface (\(reason))")
        }
        self.width = width
        self.height = height
        self.surface = surface
        self.context = cairo_create(surface)!
        // Grey-scale anti-aliasing (no colour fringes in saved pictures), slight hinting for
        // crisp small text, unhinted metrics so measured widths match what is drawn.
        let options = cairo_font_options_create()
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_SLIGHT)
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_set_font_options(context, options)
        cairo_font_options_destroy(options)
        cairo_set_line_join(context, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_BUTT)
        fill(Rect(x: 0, y: 0, width: Double(width), height: Double(height)), background)
    }

    /// A canvas holding a copy of `image`.
    public convenience init(image: Image) throws {
        try self.init(width: image.width, height: image.height)
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let base = cairo_image_surface_get_data(surface)!
        image.pixels.withUnsafeBufferPointer { px in
            for y in 0..<height {
                let row = UnsafeMutableRawPointer(base + y * stride).assumingMemoryBound(to: UInt32.self)
                var i = 3 * y * width
                for x in 0..<width {
                    row[x] = UInt32(px[i]) << 16 | UInt32(px[i + 1]) << 8 | UInt32(px[i + 2])
                    i += 3
                }
            }
        }
        cairo_surface_mark_dirty(surface)
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    /// What has been drawn, as an RGB image.
    public var image: Image {
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let base = cairo_image_surface_get_data(surface)!
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { px in
            for y in 0..<height {
                let row = UnsafeRawPointer(base + y * stride).assumingMemoryBound(to: UInt32.self)
                var i = 3 * y * width
                for x in 0..<width {
                    let v = row[x]
                    px[i] = UInt8(truncatingIfNeeded: v >> 16)
                    px[i + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    px[i + 2] = UInt8(truncatingIfNeeded: v)
                    i += 3
                }
            }
        }
        return Image(width: width, height: height, pixels: pixels)
    }

    /// The whole canvas as a rectangle.
    public var bounds: Rect { Rect(x: 0, y: 0, width: Double(width), height: Double(height)) }

    // MARK: - Shapes

    func setSource(_ c: Color) { cairo_set_source_rgba(context, c.red, c.green, c.blue, c.alpha) }

    func setStroke(_ color: Color, width: Double, dash: [Double]) {
        setSource(color)
        cairo_set_line_width(context, width)
        dash.withUnsafeBufferPointer { cairo_set_dash(context, $0.baseAddress, Int32(dash.count), 0) }
    }

    /// Fills `rect` with `color`.
    public func fill(_ rect: Rect, _ color: Color) {
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        setSource(color)
        cairo_fill(context)
    }

    /// Outlines `rect` with a line of `width` pixels centred on its edges; `dash` alternates
    /// drawn and skipped lengths (empty: solid).
    public func stroke(_ rect: Rect, _ color: Color, width: Double = 1, dash: [Double] = []) {
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        setStroke(color, width: width, dash: dash)
        cairo_stroke(context)
    }

    /// A straight line.
    public func line(from a: Point, to b: Point, _ color: Color, width: Double = 1, dash: [Double] = []) {
        cairo_move_to(context, a.x, a.y)
        cairo_line_to(context, b.x, b.y)
        setStroke(color, width: width, dash: dash)
        cairo_stroke(context)
    }

    /// Connected line segments; a point with a non-finite coordinate breaks the line.
    public func polyline(_ points: [Point], _ color: Color, width: Double = 1, dash: [Double] = []) {
        var pen = false
        for p in points {
            guard p.x.isFinite, p.y.isFinite else {
                pen = false
                continue
            }
            if pen { cairo_line_to(context, p.x, p.y) } else { cairo_move_to(context, p.x, p.y) }
            pen = true
        }
        setStroke(color, width: width, dash: dash)
        cairo_stroke(context)
    }

    /// A filled disc, optionally outlined.
    public func disc(center: Point, radius: Double, _ color: Color, outline: Color? = nil, outlineWidth: Double = 1) {
        cairo_new_sub_path(context)
        cairo_arc(context, center.x, center.y, radius, 0, 2 * Double.pi)
        setSource(color)
        if let outline {
            cairo_fill_preserve(context)
            setStroke(outline, width: outlineWidth, dash: [])
            cairo_stroke(context)
        } else {
            cairo_fill(context)
        }
    }

    /// Runs `body` with drawing restricted to `rect`.
    public func clipped(to rect: Rect, _ body: () -> Void) {
        cairo_save(context)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(context)
        body()
        cairo_restore(context)
    }

    /// Draws `image` scaled (bilinear, either way) into `rect`.
    public func draw(_ image: Image, in rect: Rect) throws {
        guard image.width > 0, image.height > 0, rect.width > 0, rect.height > 0 else { return }
        let source = try Canvas(image: image)
        cairo_save(context)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(context)
        cairo_translate(context, rect.x, rect.y)
        cairo_scale(context, rect.width / Double(image.width), rect.height / Double(image.height))
        cairo_set_source_surface(context, source.surface, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_GOOD)
        cairo_pattern_set_extend(cairo_get_source(context), CAIRO_EXTEND_PAD)
        cairo_paint(context)
        cairo_restore(context)
    }

    /// The coordinate at which a line of odd pixel `width` is sharp (centred on a pixel),
    /// or an integer for even widths.
    public static func snap(_ v: Double, lineWidth: Double = 1) -> Double {
        let w = Int(lineWidth.rounded())
        return w % 2 == 1 ? v.rounded(.down) + 0.5 : v.rounded()
    }
}
