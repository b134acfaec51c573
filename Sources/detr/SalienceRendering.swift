import Detection
import Graphics
import Torch
import Vision

/// Salience DETR's foreground-score maps drawn over the image, one panel per feature level
/// (finest first), next to the detections.
enum SalienceRendering {
    /// - Parameters:
    ///   - maps: the forward pass's salience maps; `index` selects the image in the batch.
    ///   - paddedSize: (H, W) of the padded batch.
    static func render(
        _ maps: SalienceMaps, index: Int, image: Image, resizedSize: (height: Int, width: Int),
        paddedSize: (height: Int, width: Int), detections: Image
    ) -> Image {
        var panels = [detections]
        for (index_l, level) in maps.scores.enumerated() {
            let (h, w) = (level.size(2), level.size(3))
            // The part of the map that covers the image (the rest is padding).
            let vh = Swift.max(
                1, Swift.min(h, Int((Double(h) * Double(resizedSize.height) / Double(paddedSize.height)).rounded(.up))))
            let vw = Swift.max(
                1, Swift.min(w, Int((Double(w) * Double(resizedSize.width) / Double(paddedSize.width)).rounded(.up))))
            let crop = level[index].slice(dim: 1, end: vh).slice(dim: 2, end: vw).unsqueeze(0)  // [1, 1, vh, vw]
            let up = Functional.interpolate(crop.sigmoid(), size: (image.height, image.width), mode: .bilinear)
            panels.append(Self.captioned(image.overlaid(heat: up.floats), "level \(index_l + 1)"))
        }
        return Image.sideBySide(panels)
    }

    /// `panel` with `caption` in its top-left corner: white text on a translucent dark tab,
    /// sized like detection labels.
    static func captioned(_ panel: Image, _ caption: String) -> Image {
        guard let canvas = try? Canvas(image: panel) else { return panel }
        let font = BoxStyle(pictureWidth: panel.width, pictureHeight: panel.height).font
        let size = canvas.measure(caption, font)
        let pad = 0.3 * font.size
        canvas.fill(Rect(x: 0, y: 0, width: size.width + 2 * pad, height: size.height + pad), Color.black.opacity(0.55))
        canvas.text(caption, at: Point(pad, pad / 2), font, .white)
        return canvas.image
    }
}
