import Vision

/// A colour with components in [0, 1] (sRGB, straight alpha).
public struct Color: Sendable, Equatable, Hashable {
    public var red: Double
    public var green: Double
    public var blue: Double
    public var alpha: Double

    public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
        self.red = red
        self.green = green
        self.blue = blue
        self.alpha = alpha
    }

    /// From `0xRRGGBB`.
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(
            red: Double(hex >> 16 & 0xFF) / 255, green: Double(hex >> 8 & 0xFF) / 255,
            blue: Double(hex & 0xFF) / 255, alpha: alpha)
    }

    /// From an 8-bit RGB triple (opaque).
    public init(_ rgb: Image.Color) {
        self.init(red: Double(rgb.r) / 255, green: Double(rgb.g) / 255, blue: Double(rgb.b) / 255)
    }

    /// A grey of the given lightness (0 black, 1 white).
    public static func gray(_ level: Double, alpha: Double = 1) -> Color {
        Color(red: level, green: level, blue: level, alpha: alpha)
    }

    public static let black = Color.gray(0)
    public static let white = Color.gray(1)

    /// The same colour with another opacity.
    public func opacity(_ alpha: Double) -> Color { Color(red: red, green: green, blue: blue, alpha: alpha) }

    /// Linear blend towards `other`: fraction 0 is `self`, 1 is `other` (alpha of `self`).
    public func mixed(with other: Color, _ fraction: Double) -> Color {
        let f = Swift.max(0, Swift.min(1, fraction))
        return Color(
            red: red + (other.red - red) * f, green: green + (other.green - green) * f,
            blue: blue + (other.blue - blue) * f, alpha: alpha)
    }

    /// Perceived brightness in [0, 1] (Rec. 601 weights on the sRGB values).
    public var brightness: Double { 0.299 * red + 0.587 * green + 0.114 * blue }

    /// Black or white, whichever reads better on this colour.
    public var ink: Color { brightness > 0.58 ? .black : .white }

    /// Series colours of charts: the Okabe–Ito palette (distinguishable with the common forms
    /// of colour blindness), its yellow darkened to stay visible on white, then greys.
    public static let palette: [Color] =
        ([
            0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7, 0xE69F00, 0x56B4E9, 0x000000, 0xB8A200, 0x7F7F7F,
        ] as [UInt32]).map { Color(hex: $0) }

    /// Series colour `index` (the palette repeats after its last colour).
    public static func series(_ index: Int) -> Color {
        palette[((index % palette.count) + palette.count) % palette.count]
    }

    /// A distinct, stable colour for class `index` on photographs: a golden-ratio walk around
    /// the hue circle at high saturation, so neighbouring class ids get far-apart hues.
    public static func forClass(_ index: Int) -> Color {
        let h = (Double(index) * 0.618033988749895).truncatingRemainder(dividingBy: 1)
        let s = 0.75, v = 0.95
        let i = Int(h * 6), f = h * 6 - Double(i)
        let p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s)
        switch i % 6 {
        case 0: return Color(red: v, green: t, blue: p)
        case 1: return Color(red: q, green: v, blue: p)
        case 2: return Color(red: p, green: v, blue: t)
        case 3: return Color(red: p, green: q, blue: v)
        case 4: return Color(red: t, green: p, blue: v)
        default: return Color(red: v, green: p, blue: q)
        }
    }

    /// A sequential colour for `value` in [0, 1]: white through light blue to dark blue, for
    /// matrices (darker = larger); values outside are clamped, non-finite ones are white.
    public static func sequential(_ value: Double) -> Color {
        let stops: [UInt32] = [0xFFFFFF, 0xD6E6F4, 0x9CC3E4, 0x4A8FC9, 0x1C5FA3, 0x0B3470]
        let v = value.isFinite ? Swift.max(0, Swift.min(1, value)) : 0
        let x = v * Double(stops.count - 1)
        let i = Swift.min(Int(x), stops.count - 2)
        return Color(hex: stops[i]).mixed(with: Color(hex: stops[i + 1]), x - Double(i))
    }
}
