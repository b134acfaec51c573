import Records
import Vision

extension PredictionRecord {
    /// The image with boxes, names and scores drawn in class colours: anti-aliased text whose
    /// size grows with the image (`BoxStyle`). Same size as `image`; an image too large for
    /// cairo (a side over 32767 pixels) comes back undrawn.
    public func drawn(on image: Image) -> Image {
        // Lowest scores first so the best detections end up on top.
        image.annotated(
            with: detections.reversed().map { d in
                LabeledBox(
                    corners: d.box.corners, label: String(format: "%@ %.2f", name(d.label), d.score),
                    color: Color.forClass(d.label))
            })
    }
}
