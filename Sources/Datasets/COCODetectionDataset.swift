import COCO
import Diagnostics
import Foundation
import Vision

/// A COCO-format detection dataset for training: an images directory plus an annotation file.
///
/// Indexing (at init) follows the official recipes: images in ascending id order (torchvision's
/// `CocoDetection`), crowd annotations dropped, boxes `[x, y, w, h]` → corners in float32,
/// clamped to the image and dropped unless `x1 > x0 && y1 > y0` (DETR's
/// `ConvertCocoPolysToMask`), and — unless disabled — images left without boxes skipped, as
/// Salience DETR does for training (DETR keeps them; they still cost a forward pass but add
/// no positives). Category ids are used directly as classifier columns (`validate(numClasses:)`).
///
/// `sample(at:)` decodes one image (stored orientation, no EXIF rotation) on demand; it is
/// thread-safe, so loader workers call it concurrently.
public struct COCODetectionDataset: Sendable {
    /// One usable image: where it is and its filtered ground truth.
    public struct Entry: Sendable, Equatable {
        public var imageId: Int
        public var fileName: String
        /// Size from the annotation file (nil when the file omits it).
        public var width: Int?
        public var height: Int?
        /// Boxes in pixel corners, clamped to the annotated size when it is known.
        public var boxes: [PixelBox]
        public var labels: [Int]
    }

    /// What indexing dropped, for the trainer to report.
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        /// `images` entries in the file.
        public var imagesInFile = 0
        /// Images skipped because no box remained.
        public var imagesWithoutAnnotations = 0
        /// Crowd annotations dropped.
        public var crowdAnnotations = 0
        /// Boxes dropped for zero (or, after clamping, negative) width or height.
        public var degenerateBoxes = 0

        public var description: String {
            "\(imagesInFile) images in the file, \(imagesWithoutAnnotations) skipped without annotations; "
                + "\(crowdAnnotations) crowd annotations and \(degenerateBoxes) degenerate boxes dropped"
        }
    }

    public let imagesDirectory: URL
    /// The annotation file as named in errors.
    public let annotationName: String
    public let entries: [Entry]
    public let categories: [COCODataset.Category]
    public let report: Report

    /// Loads and indexes `annotationFile`; images are looked up as `imagesDirectory/file_name`.
    /// - Throws: `COCOError` for an unreadable or malformed annotation file,
    ///   `TrainingDataError` (`.missingFileName`, `.empty`).
    /// - Parameter format: the annotations' format (told by the path when nil; `DetectionAnnotations`)
    public init(
        imagesDirectory: URL, annotationFile: URL, format: AnnotationFormat? = nil,
        skipImagesWithoutAnnotations: Bool = true
    ) throws {
        let coco = try DetectionAnnotations.load(annotationFile, images: imagesDirectory, format: format)
        try self.init(
            imagesDirectory: imagesDirectory, coco: coco, annotationName: annotationFile.relativePath,
            skipImagesWithoutAnnotations: skipImagesWithoutAnnotations)
    }

    /// Indexes an already loaded annotation set; `annotationName` labels errors.
    public init(
        imagesDirectory: URL, coco: COCODataset, annotationName: String,
        skipImagesWithoutAnnotations: Bool = true
    ) throws {
        self.imagesDirectory = imagesDirectory
        self.annotationName = annotationName
        self.categories = coco.categories.sorted { $0.id < $1.id }
        var byImage: [Int: [COCODataset.Annotation]] = [:]
        for a in coco.annotations { byImage[a.imageId, default: []].append(a) }
        var report = Report()
        report.imagesInFile = coco.images.count
        var entries: [Entry] = []
        for image in coco.images.sorted(by: { $0.id < $1.id }) {
            guard let fileName = image.fileName, !fileName.isEmpty else {
                throw TrainingDataError(.missingFileName, file: annotationName, "image \(image.id) has no 'file_name'")
            }
            var entry = Entry(
                imageId: image.id, fileName: fileName, width: image.width, height: image.height,
                boxes: [], labels: [])
            for a in byImage[image.id] ?? [] {
                if a.isCrowd { report.crowdAnnotations += 1; continue }
                let box = Self.corners(a.box, clampWidth: image.width, height: image.height)
                if box.isEmpty { report.degenerateBoxes += 1; continue }
                entry.boxes.append(box)
                entry.labels.append(a.categoryId)
            }
            if entry.boxes.isEmpty && skipImagesWithoutAnnotations {
                report.imagesWithoutAnnotations += 1
                continue
            }
            entries.append(entry)
        }
        guard !entries.isEmpty else {
            let why =
                report.imagesInFile == 0 ? "has no images" : "has no image with a usable (non-crowd, non-empty) box"
            throw TrainingDataError(.empty, file: annotationName, why)
        }
        self.entries = entries
        self.report = report
    }

    public var count: Int { entries.count }

    /// The largest category id declared in the file.
    public var maxCategoryId: Int { categories.map(\.id).max() ?? -1 }

    /// Category names indexed by id (`nil` where no category has that id), for logs and pictures.
    public var classNames: [String?] {
        var names = [String?](repeating: nil, count: Swift.max(maxCategoryId + 1, 0))
        for c in categories where c.id >= 0 { names[c.id] = c.name }
        return names
    }

    /// Checks that a classifier with `numClasses` columns can represent every category id.
    /// - Throws: `TrainingDataError.invalidClassCount` with the smallest valid value.
    public func validate(numClasses: Int) throws {
        if let negative = categories.first(where: { $0.id < 0 }) {
            throw TrainingDataError(
                .invalidClassCount, file: annotationName,
                """
                category '\(negative.name)' has a negative id \(negative.id); ids are classifier columns and must be \
                >= 0
                """
            )
        }
        let maxId = maxCategoryId
        guard numClasses > maxId else {
            let name = categories.last.map { " ('\($0.name)')" } ?? ""
            throw TrainingDataError(
                .invalidClassCount, file: annotationName,
                "num_classes \(numClasses) is too small: category ids go up to \(maxId)\(name) and are used "
                    + "directly as classifier columns, so num_classes must be at least \(maxId + 1)")
        }
    }

    /// Width / height of image `index` from the annotation file (1 when the file omits the size).
    public func aspectRatio(at index: Int) -> Double {
        let e = entries[index]
        guard let w = e.width, let h = e.height, w > 0, h > 0 else { return 1 }
        return Double(w) / Double(h)
    }

    /// The image file of entry `index`.
    public func imageURL(at index: Int) -> URL {
        imagesDirectory.appendingPathComponent(entries[index].fileName)
    }

    /// Decodes image `index` (stored orientation) with its boxes clamped to the decoded size.
    /// - Throws: `TrainingDataError.unreadableImage` naming the file.
    public func sample(at index: Int) throws -> TrainingSample {
        let entry = entries[index]
        let url = imageURL(at: index)
        let image: Image
        do {
            image = try Image(contentsOf: url, applyExifOrientation: false)
        } catch let error as FileError {
            throw TrainingDataError(
                .unreadableImage, file: url.path, "cannot load image \(entry.imageId): \(error.problem)")
        }
        var sample = TrainingSample(imageId: entry.imageId, image: image, boxes: entry.boxes, labels: entry.labels)
        if entry.width != image.width || entry.height != image.height {
            // The annotated size was missing or wrong: clamp to the real one, as DETR does.
            let w = Float(image.width), h = Float(image.height)
            sample.boxes = sample.boxes.map {
                PixelBox(
                    x0: Swift.min(Swift.max($0.x0, 0), w), y0: Swift.min(Swift.max($0.y0, 0), h),
                    x1: Swift.min(Swift.max($0.x1, 0), w), y1: Swift.min(Swift.max($0.y1, 0), h))
            }
            sample.filterBoxes { !$0.isEmpty }
        }
        return sample
    }

    /// `[x, y, w, h]` → float32 corners (`x1 = x + w` in float32), clamped to `[0, width] x [0, height]`
    /// when the size is known.
    static func corners(_ b: COCOBox, clampWidth width: Int?, height: Int?) -> PixelBox {
        let x0 = Float(b.x), y0 = Float(b.y)
        var box = PixelBox(x0: x0, y0: y0, x1: x0 + Float(b.width), y1: y0 + Float(b.height))
        if let width {
            let w = Float(width)
            box.x0 = Swift.min(Swift.max(box.x0, 0), w)
            box.x1 = Swift.min(Swift.max(box.x1, 0), w)
        }
        if let height {
            let h = Float(height)
            box.y0 = Swift.min(Swift.max(box.y0, 0), h)
            box.y1 = Swift.min(Swift.max(box.y1, 0), h)
        }
        return box
    }
}
