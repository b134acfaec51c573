import COCO
import Diagnostics
import Foundation

/// The annotation formats the tools read, all as a `COCODataset`.
public enum AnnotationFormat: String, CaseIterable, Sendable {
    /// A COCO annotation file (`.json`).
    case coco
    /// An Ultralytics YOLO dataset: its `data.yaml` (label files beside the images, see
    /// `YOLOAnnotations`).
    case yolo
    /// Pascal VOC: an `Annotations` folder or a set file `ImageSets/Main/<split>.txt`.
    case voc
}

/// Annotations in any `AnnotationFormat`, told apart by their path.
public enum DetectionAnnotations {
    /// The format of `url`: `.json` COCO, `.yaml`/`.yml` YOLO, a folder of `.xml` files or a
    /// `.txt` set file under `ImageSets/` VOC; nil when the path says none of these.
    public static func format(of url: URL) -> AnnotationFormat? {
        switch url.pathExtension.lowercased() {
        case "json": return .coco
        case "yaml", "yml": return .yolo
        case "txt": return url.pathComponents.contains("ImageSets") ? .voc : nil
        default:
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue
            else { return nil }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            return names.contains { $0.lowercased().hasSuffix(".xml") } ? .voc : nil
        }
    }

    /// Loads `url` in `format` (detected from the path when nil). YOLO labels have no image
    /// sizes: `images` is the split's image folder, whose headers give them.
    /// - Parameter displayName: how errors name a COCO file (default: the path as given)
    /// - Throws: `FileError`/`COCOError` naming the file (and line) at fault
    public static func load(
        _ url: URL, images: URL?, format: AnnotationFormat? = nil, displayName: String? = nil
    ) throws -> COCODataset {
        guard let format = format ?? Self.format(of: url) else {
            throw FileError(
                file: displayName ?? url.relativePath,
                problem:
                    "is not an annotation file this tool reads: a COCO .json, a YOLO data.yaml, or a VOC Annotations folder or ImageSets/Main/<split>.txt"
            )
        }
        switch format {
        case .coco:
            return try COCODataset(contentsOf: url, displayName: displayName)
        case .yolo:
            guard let images else {
                throw FileError(
                    file: displayName ?? url.relativePath,
                    problem: "is a YOLO dataset: give its images folder too (the image sizes come from the images)")
            }
            return try YOLOAnnotations.load(imagesDirectory: images, dataYAML: url)
        case .voc:
            return try VOCAnnotations.load(url)
        }
    }
}
