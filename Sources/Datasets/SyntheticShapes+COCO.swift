import COCO
import Foundation
import Vision

/// Writing a synthetic dataset in COCO layout:
///
///     DIR/train/000001.png ...        DIR/annotations/train.json
///     DIR/val/000001.png ...          DIR/annotations/val.json
///
/// Pictures `0..<train` form the training split and the rest the validation split (about
/// `validationFraction` of them, at least one); image and annotation ids start at 1 in each
/// file. Boxes are rounded to 1/100 px (never outside the image).
extension SyntheticShapes {
    /// What was written.
    public struct Summary: Sendable, Equatable {
        public var trainImages: Int
        public var valImages: Int
        public var trainObjects: Int
        public var valObjects: Int
        public var trainAnnotations: URL
        public var valAnnotations: URL
    }

    /// Number of validation pictures among `count`: round(count · fraction), at least 1, and
    /// leaving at least one training picture.
    public static func validationCount(of count: Int, fraction: Double = 0.2) -> Int {
        min(max(1, Int((Double(count) * fraction).rounded())), count - 1)
    }

    /// Generates `count` pictures (at least 2) and writes both splits under `directory`
    /// (created if needed; existing files of the same names are replaced).
    /// - Parameter progress: called after each picture with the number written so far.
    /// - Throws: `FileError` or a file-system error naming the path that could not be written.
    public func write(
        to directory: URL, images count: Int, validationFraction: Double = 0.2,
        progress: ((Int) -> Void)? = nil
    ) throws -> Summary {
        precondition(count >= 2, "SyntheticShapes.write: need at least 2 images (one per split)")
        let valCount = Self.validationCount(of: count, fraction: validationFraction)
        let trainCount = count - valCount
        let fm = FileManager.default
        let annotations = directory.appendingPathComponent("annotations")
        for dir in [directory.appendingPathComponent("train"), directory.appendingPathComponent("val"), annotations] {
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        var written = 0
        func split(_ name: String, _ range: Range<Int>) throws -> (objects: Int, url: URL) {
            var images: [COCODataset.Image] = [], objects: [COCODataset.Annotation] = []
            for (k, index) in range.enumerated() {
                let picture = self.picture(index: index)
                let imageId = k + 1
                let fileName = String(format: "%06d.png", imageId)
                try picture.image.write(to: directory.appendingPathComponent(name).appendingPathComponent(fileName))
                images.append(
                    .init(id: imageId, width: picture.image.width, height: picture.image.height, fileName: fileName))
                for o in picture.objects {
                    let b = Self.roundedBox(o, width: picture.image.width, height: picture.image.height)
                    objects.append(
                        .init(
                            id: objects.count + 1, imageId: imageId,
                            categoryId: category(of: o, width: picture.image.width, height: picture.image.height),
                            box: COCOBox(x: b[0], y: b[1], width: b[2], height: b[3]),
                            area: (o.area * 100).rounded() / 100))
                }
                written += 1
                progress?(written)
            }
            let dataset = try COCODataset(
                images: images,
                categories: categories.map { .init(id: $0.id, name: $0.name, supercategory: "shape") },
                annotations: objects, name: name)
            let url = annotations.appendingPathComponent("\(name).json")
            try dataset.jsonData(info: ["description": "swift-detr synthetic shapes"]).write(to: url, options: .atomic)
            return (objects.count, url)
        }
        let train = try split("train", 0..<trainCount)
        let val = try split("val", trainCount..<count)
        return Summary(
            trainImages: trainCount, valImages: valCount, trainObjects: train.objects,
            valObjects: val.objects, trainAnnotations: train.url, valAnnotations: val.url)
    }

    /// `[x, y, w, h]` rounded to 1/100 px, kept inside the image.
    static func roundedBox(_ o: Object, width: Int, height: Int) -> [Double] {
        func r(_ v: Double) -> Double { (v * 100).rounded() / 100 }
        let x0 = max(0, r(o.x)), y0 = max(0, r(o.y))
        let x1 = min(Double(width), r(o.x + o.width)), y1 = min(Double(height), r(o.y + o.height))
        return [x0, y0, r(x1 - x0), r(y1 - y0)]
    }
}
