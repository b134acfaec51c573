import Detection
import Foundation
import Vision

/// One image's detections as `detr predict` reports them.
struct PredictionRecord {
    var file: String
    var width: Int
    var height: Int
    var detections: [Detection]
    var names: [String]

    func name(_ label: Int) -> String { label < names.count ? names[label] : "class \(label)" }

    /// The image with boxes, names and scores drawn in class colours.
    func drawn(on image: Image) -> Image {
        var canvas = image
        // Lowest scores first so the best detections end up on top.
        for d in detections.reversed() {
            canvas.drawDetection(box: d.box, label: String(format: "%@ %.2f", name(d.label), d.score),
                                 color: Image.classColor(d.label))
        }
        return canvas
    }

    /// `{"images":[{"file","width","height","detections":[{"label","name","score","box"}]}]}`, keys in that order.
    static func json(_ records: [PredictionRecord]) -> String {
        func str(_ s: String) -> String {
            let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
            return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
        }
        func num(_ f: Float) -> String { f.isFinite ? "\(f)" : "null" }
        let images = records.map { r in
            let dets = r.detections.map { d in
                "{\"label\":\(d.label),\"name\":\(str(r.name(d.label))),\"score\":\(num(d.score)),\"box\":[\(d.box.map(num).joined(separator: ","))]}"
            }
            return "{\"file\":\(str(r.file)),\"width\":\(r.width),\"height\":\(r.height),\"detections\":[\(dets.joined(separator: ","))]}"
        }
        return "{\"images\":[\n" + images.joined(separator: ",\n") + "\n]}"
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
                if names.isEmpty { throw ImageError(file: input, problem: "directory contains no .jpg/.jpeg/.png images") }
                out += names.map { (input as NSString).appendingPathComponent($0) }
            } else {
                out.append(input)  // missing files are reported per image, and the others still run
            }
        }
        return out
    }
}
