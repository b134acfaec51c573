/// A text face and size. The family is resolved by fontconfig through cairo: "DejaVu Sans" is
/// installed by the bootstrap (Debian's fonts-dejavu-core); where it is missing, fontconfig
/// substitutes the closest sans-serif face it has.
public struct Font: Sendable, Equatable {
    public var family: String
    /// Size in pixels (the em height).
    public var size: Double
    public var bold: Bool

    public init(size: Double, bold: Bool = false, family: String = Font.defaultFamily) {
        self.family = family
        self.size = size
        self.bold = bold
    }

    public static let defaultFamily = "DejaVu Sans"

    /// The same face at another size.
    public func sized(_ size: Double) -> Font { Font(size: size, bold: bold, family: family) }

    /// The same face, bold.
    public var emphasized: Font { Font(size: size, bold: true, family: family) }
}

/// The measured size of a line of text in a font.
public struct TextSize: Sendable, Equatable {
    /// Advance width: where the next character would start.
    public var width: Double
    /// Font ascent above the baseline and descent below it (the same for every text of a font,
    /// so lines of one font align whatever their characters).
    public var ascent: Double
    public var descent: Double

    public var height: Double { ascent + descent }
}

/// Which point of a text's box is placed at the given position.
public struct TextAnchor: Sendable, Equatable {
    public enum Horizontal: Sendable { case left, center, right }
    public enum Vertical: Sendable { case top, middle, baseline, bottom }

    public var horizontal: Horizontal
    public var vertical: Vertical

    public init(_ horizontal: Horizontal, _ vertical: Vertical) {
        self.horizontal = horizontal
        self.vertical = vertical
    }

    public static let topLeft = TextAnchor(.left, .top)
    public static let top = TextAnchor(.center, .top)
    public static let center = TextAnchor(.center, .middle)
    public static let left = TextAnchor(.left, .middle)
    public static let right = TextAnchor(.right, .middle)
    public static let bottom = TextAnchor(.center, .bottom)
}
