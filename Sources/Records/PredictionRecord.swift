import Foundation
import Vision

/// One image's detections as `detr predict` writes them and `detr serve` answers them.
public struct PredictionRecord: Sendable {
    /// The image as the caller named it (a path, or the request's name for it).
    public var file: String
    public var width: Int
    public var height: Int
    public var detections: [DetectedObject]
    /// Class names by label (index = logit column).
    public var names: [String]

    public init(file: String, width: Int, height: Int, detections: [DetectedObject], names: [String]) {
        self.file = file
        self.width = width
        self.height = height
        self.detections = detections
        self.names = names
    }

    /// The name of a class label; "class N" for a label without one.
    public func name(_ label: Int) -> String { label < names.count ? names[label] : "class \(label)" }

    /// One image of the predictions file.
    public struct ImageEntry: Encodable, Sendable {
        public var file: String
        public var width: Int
        public var height: Int
        public var detections: [DetectionEntry]
    }

    /// One detection: class index and name, score, box [x0, y0, x1, y1] in original pixels.
    public struct DetectionEntry: Encodable, Sendable {
        public var label: Int
        public var name: String
        public var score: FiniteOrNull<Float>
        public var box: [FiniteOrNull<Float>]
    }

    /// The record as it is encoded.
    public var entry: ImageEntry {
        ImageEntry(
            file: file, width: width, height: height,
            detections: detections.map { d in
                DetectionEntry(
                    label: d.label, name: name(d.label), score: FiniteOrNull(d.score),
                    box: d.box.corners.map(FiniteOrNull.init)
                )
            })
    }

    /// The record as one JSON object (keys sorted: detections, file, height, width; in a
    /// detection box, label, name, score): the line `json(_:)` writes for it.
    public func json() throws -> String { try JSONOutput.encode(entry) }

    /// `{"images":[...]}` with one image object per line.
    public static func json(_ records: [PredictionRecord]) throws -> String {
        let lines = try records.map { try $0.json() }
        return "{\"images\":[\n" + lines.joined(separator: ",\n") + "\n]}"
    }
}
