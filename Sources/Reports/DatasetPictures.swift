import COCO
import Datasets
import Foundation
import Graphics
import Vision

/// Pictures of a dataset's ground truth, as `detr show-dataset` writes them: the boxes and
/// class names on each image (crowd regions dashed and tinted), and sheets that put an image
/// next to what the training augmentation makes of it.
public enum DatasetPictures {
    /// Pictures are enlarged (never shrunk) to at least this many pixels on their shorter
    /// side, so that labels on small images stay readable.
    public static let minimumShortSide = 360

    /// The boxes of `annotations` on `image`: class colours, "name" tabs; crowd regions with a
    /// dashed outline, a light tint and "name (crowd)".
    /// - Parameter names: category names by id ("category N" for an unknown id).
    public static func boxes(_ annotations: [COCODataset.Annotation], names: [Int: String]) -> [LabeledBox] {
        // Crowd regions first, so that the objects in them are drawn over them.
        annotations.sorted { $0.isCrowd && !$1.isCrowd }.map { a in
            let name = names[a.categoryId] ?? "category \(a.categoryId)"
            return LabeledBox(
                box: Rect(x: a.box.x, y: a.box.y, width: a.box.width, height: a.box.height),
                label: a.isCrowd ? "\(name) (crowd)" : name, color: Color.forClass(a.categoryId),
                dashed: a.isCrowd, fillOpacity: a.isCrowd ? 0.18 : 0)
        }
    }

    /// The boxes of a training sample (after augmentation: crowd regions are not part of it).
    public static func boxes(_ sample: TrainingSample, names: [Int: String]) -> [LabeledBox] {
        zip(sample.boxes, sample.labels).map { box, label in
            LabeledBox(
                box: Rect(x0: Double(box.x0), y0: Double(box.y0), x1: Double(box.x1), y1: Double(box.y1)),
                label: names[label] ?? "category \(label)", color: Color.forClass(label))
        }
    }

    /// `image` with `boxes` (in its pixels), enlarged to `minimumShortSide` when smaller.
    public static func annotated(_ image: Image, boxes: [LabeledBox]) throws -> Image {
        let scale = Swift.max(1, Double(minimumShortSide) / Double(Swift.max(1, Swift.min(image.width, image.height))))
        let width = Int((Double(image.width) * scale).rounded()), height = Int((Double(image.height) * scale).rounded())
        let canvas = try Canvas(width: width, height: height)
        try draw(image, boxes: boxes, on: canvas, in: canvas.bounds)
        return canvas.image
    }

    /// Draws `image` scaled into `rect` and `boxes` (in the image's pixels) over it, with
    /// line and text sizes for the drawn size.
    static func draw(_ image: Image, boxes: [LabeledBox], on canvas: Canvas, in rect: Rect) throws {
        try canvas.draw(image, in: rect)
        let sx = rect.width / Double(image.width), sy = rect.height / Double(image.height)
        let scaled = boxes.map { b in
            var s = b
            s.box = Rect(
                x: rect.x + b.box.x * sx, y: rect.y + b.box.y * sy, width: b.box.width * sx, height: b.box.height * sy)
            return s
        }
        canvas.clipped(to: rect) {
            canvas.draw(
                scaled, style: BoxStyle(pictureWidth: Int(rect.width), pictureHeight: Int(rect.height)), within: rect)
        }
    }

    /// One panel of an augmentation sheet: a picture, its boxes and a caption.
    public struct Panel {
        public var image: Image
        public var boxes: [LabeledBox]
        public var caption: String

        public init(image: Image, boxes: [LabeledBox], caption: String) {
            self.image = image
            self.boxes = boxes
            self.caption = caption
        }
    }

    /// Panels side by side, each drawn `height` pixels high (aspect ratio kept, so sizes are
    /// comparable only through the captions), under a title.
    public static func sheet(title: String, subtitle: String, panels: [Panel], height: Int = 360) throws -> Image {
        let style = ChartStyle()
        let gap = 16.0, header = 58.0, captionHeight = 24.0
        let widths = panels.map { Double(height) * Double($0.image.width) / Double(Swift.max(1, $0.image.height)) }
        let total = widths.reduce(0, +) + gap * Double(panels.count + 1)
        let canvas = try Canvas(
            width: Int(total.rounded(.up)), height: Int(header + captionHeight + Double(height) + gap),
            background: Color.gray(0.97))
        canvas.text(
            canvas.truncated(title, style.titleFont, toWidth: total - 2 * gap), at: Point(gap, 10), style.titleFont,
            style.text)
        canvas.text(
            canvas.truncated(subtitle, style.subtitleFont, toWidth: total - 2 * gap), at: Point(gap, 32),
            style.subtitleFont, style.mutedText)
        var x = gap
        for (panel, width) in zip(panels, widths) {
            canvas.text(
                canvas.truncated(panel.caption, style.labelFont, toWidth: width), at: Point(x, header),
                style.labelFont, style.text)
            let rect = Rect(x: x, y: header + captionHeight, width: width, height: Double(height))
            try draw(panel.image, boxes: panel.boxes, on: canvas, in: rect)
            x += width + gap
        }
        return canvas.image
    }
}
