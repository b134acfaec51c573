/// Heat-map overlays and side-by-side layouts (salience visualisation).
extension Image {
    /// An 8-bit RGB colour.
    public typealias Color = (r: UInt8, g: UInt8, b: UInt8)

    /// A perceptually ordered black → purple → orange → yellow colour for v in [0, 1].
    public static func heatColor(_ v: Float) -> Color {
        let stops: [(Float, Float, Float)] = [(0, 0, 4), (87, 16, 110), (188, 55, 84), (249, 142, 9), (252, 255, 164)]
        let x = Swift.max(0, Swift.min(1, v.isFinite ? v : 0)) * Float(stops.count - 1)
        let i = Swift.min(Int(x), stops.count - 2)
        let f = x - Float(i)
        let a = stops[i], b = stops[i + 1]
        return (UInt8(a.0 + (b.0 - a.0) * f), UInt8(a.1 + (b.1 - a.1) * f), UInt8(a.2 + (b.2 - a.2) * f))
    }

    /// This image blended with a heat map of `values` (row-major, `width × height`, in [0, 1]).
    /// - Parameter opacity: weight of the heat colour (0 = image only).
    public func overlaid(heat values: [Float], opacity: Float = 0.6) -> Image {
        precondition(values.count == width * height, "overlaid: \(values.count) values for \(width)x\(height)")
        var out = pixels
        for i in 0..<(width * height) {
            let c = Self.heatColor(values[i])
            let heat = [Float(c.r), Float(c.g), Float(c.b)]
            for k in 0..<3 {
                out[3 * i + k] = UInt8((1 - opacity) * Float(pixels[3 * i + k]) + opacity * heat[k])
            }
        }
        return Image(width: width, height: height, pixels: out)
    }

    /// Images placed left to right (top-aligned) on a white canvas with `gap` pixels between them.
    public static func sideBySide(_ images: [Image], gap: Int = 8) -> Image {
        let w = images.reduce(0) { $0 + $1.width } + gap * Swift.max(0, images.count - 1)
        let h = images.map(\.height).max() ?? 0
        var canvas = Image(width: Swift.max(w, 1), height: Swift.max(h, 1), fill: (255, 255, 255))
        var x0 = 0
        for img in images {
            for y in 0..<img.height {
                let src = 3 * y * img.width, dst = 3 * (y * canvas.width + x0)
                canvas.pixels.replaceSubrange(
                    dst..<(dst + 3 * img.width), with: img.pixels[src..<(src + 3 * img.width)])
            }
            x0 += img.width + gap
        }
        return canvas
    }
}
