/// A 1-bit monospace bitmap font for labels on images (no font files at run time).
public struct BitmapFont: Sendable {
    public let glyphWidth: Int
    public let glyphHeight: Int
    /// `glyphHeight` rows per printable ASCII character 32...126; bit x = column x.
    let rows: [UInt16]

    /// Whether pixel (x, y) of `character`'s glyph is set; unknown characters render as '?'.
    func isSet(_ character: Character, x: Int, y: Int) -> Bool {
        var code = Int(character.asciiValue ?? 63)
        if code < 32 || code > 126 { code = 63 }
        return rows[(code - 32) * glyphHeight + y] >> UInt16(x) & 1 == 1
    }

    /// Size in pixels of `text` drawn at integer `scale`.
    public func size(of text: String, scale: Int = 1) -> (width: Int, height: Int) {
        (text.count * glyphWidth * scale, glyphHeight * scale)
    }
}
