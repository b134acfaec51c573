import CCairo

/// Text through cairo's font API (faces resolved by fontconfig, anti-aliased glyphs). One line
/// per call; no shaping, so scripts that need it (Arabic, Indic) are drawn without ligatures,
/// and characters the face lacks show as its missing-glyph box.
extension Canvas {
    func select(_ font: Font) {
        cairo_select_font_face(
            context, font.family, CAIRO_FONT_SLANT_NORMAL, font.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL
        )
        cairo_set_font_size(context, font.size)
    }

    /// The size `text` takes in `font`.
    public func measure(_ text: String, _ font: Font) -> TextSize {
        select(font)
        var fontExtents = cairo_font_extents_t()
        cairo_font_extents(context, &fontExtents)
        var textExtents = cairo_text_extents_t()
        cairo_text_extents(context, text, &textExtents)
        return TextSize(width: textExtents.x_advance, ascent: fontExtents.ascent, descent: fontExtents.descent)
    }

    /// Draws one line of `text` with its `anchor` point at `position`, turned by `rotation`
    /// radians (counter-clockwise on screen, e.g. π/2 for a vertical axis title read bottom to top).
    /// - Returns: the size of the text.
    @discardableResult
    public func text(
        _ text: String, at position: Point, _ font: Font, _ color: Color, anchor: TextAnchor = .topLeft,
        rotation: Double = 0
    ) -> TextSize {
        let size = measure(text, font)
        let dx: Double =
            switch anchor.horizontal {
            case .left: 0
            case .center: -size.width / 2
            case .right: -size.width
            }
        let dy: Double =
            switch anchor.vertical {
            case .top: size.ascent
            case .middle: (size.ascent - size.descent) / 2
            case .baseline: 0
            case .bottom: -size.descent
            }
        cairo_save(context)
        cairo_translate(context, position.x, position.y)
        if rotation != 0 { cairo_rotate(context, -rotation) }
        cairo_move_to(context, dx, dy)
        setSource(color)
        cairo_show_text(context, text)
        cairo_restore(context)
        return size
    }

    /// `text` shortened with "…" so that it fits in `width` (unchanged when it fits).
    public func truncated(_ text: String, _ font: Font, toWidth width: Double) -> String {
        guard measure(text, font).width > width else { return text }
        var characters = Array(text)
        while !characters.isEmpty {
            characters.removeLast()
            let candidate = String(characters) + "…"
            if measure(candidate, font).width <= width { return candidate }
        }
        return ""
    }
}
