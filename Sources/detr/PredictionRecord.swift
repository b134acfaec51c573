import Detection
import Diagnostics
import Foundation
import Vision

/// One image's detections as `detr predict` reports them.
struct PredictionRecord {
    var file: String
    var width: Int
    var height: Int
    var detections: [DetectedObject]
    var names: [String]

    func name(_ label: Int) -> String { label < names.count ? names[label] : "class \(label)" }

    /// The image with boxes, names and scores drawn in class colours.
    func drawn(on image: Image) -> Image {
        var canvas = image
        // Lowest scores first so the best detections end up on top.
        for d in detections.reversed() {
            canvas.drawDetection(
                box: d.box, label: String(format: "%@ %.2f", name(d.label), d.score),
                color: Image.classColor(d.label))
        }
        return canvas
    }

    /// One image of the predictions file.
    struct ImageEntry: Encodable {
        var file: String
        var width: Int
        var height: Int
        var detections: [DetectionEntry]
    }

    /// One detection: class index and name, score, box [x0, y0, x1, y1] in original pixels.
    struct DetectionEntry: Encodable {
        var label: Int
        var name: String
        var score: FiniteOrNull<Float>
        var box: [FiniteOrNull<Float>]
    }

    var entry: ImageEntry {
        ImageEntry(
            file: file, width: width, height: height,
            detections: detections.map { d in
                DetectionEntry(
                    label: d.label, name: name(d.label), score: FiniteOrNull(d.score), box: d.box.map(FiniteOrNull.init)
                )
            })
    }

    /// `{"images":[...]}` with one image object per line (keys sorted: detections, file, height,
    /// width; in a detection box, label, name, score).
    static func json(_ records: [PredictionRecord]) throws -> String {
        let lines = try records.map { try JSONOutput.encode($0.entry) }
        return "{\"images\":[\n" + lines.joined(separator: ",\n") + "\n]}"
    }
}

/// Expanding command-line image arguments.
enum ImageInputs {
    static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    /// Files as given; directories become their image files, sorted by name.
    static func expand(_ inputs: [String]) throws -> [String] {
        var out: [String] = []
        for input in inputs {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: input, isDirectory: &isDir), isDir.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: input)
                    .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
                if names.isEmpty {
                    throw FileError(file: input, problem: "directory contains no .jpg/.jpeg/.png images")
                }
                out += names.map { (input as NSString).appendingPathComponent($0) }
            } else {
                out.append(input)  // missing files are reported per image, and the others still run
            }
        }
        return out
    }
}
