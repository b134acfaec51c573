import Detection
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
            var panel = image.overlaid(heat: up.floats)
            panel.drawText(
                "level \(index_l + 1)", x: 2, y: 2,
                scale: Swift.max(1, Swift.min(image.width, image.height) / 400), color: (255, 255, 255))
            panels.append(panel)
        }
        return Image.sideBySide(panels)
    }
}
