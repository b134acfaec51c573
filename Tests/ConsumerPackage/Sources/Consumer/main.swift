import Detection
import Foundation
import Vision

// Consumer CONFIG WEIGHTS IMAGE EXPECTED.json: the README's library example on IMAGE, then its
// detections compared with those `detr predict --threshold 0.5` wrote for the same image.
let arguments = CommandLine.arguments
guard arguments.count == 5 else {
    FileHandle.standardError.write(Data("usage: Consumer CONFIG WEIGHTS IMAGE EXPECTED.json\n".utf8))
    exit(2)
}
let predictor = try Predictor.load(config: arguments[1], weights: arguments[2])
let image = try Image(contentsOf: URL(fileURLWithPath: arguments[3]), applyExifOrientation: true)
let detections = try predictor.predict([image], options: DetectionOptions(threshold: 0.5)).detections[0]
for d in detections { print(predictor.names[d.label], d.score, d.box) }

let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: arguments[4])))
let records = (expected as? [String: Any])?["images"] as? [[String: Any]] ?? [expected as? [String: Any] ?? [:]]
let wanted = records.first?["detections"] as? [[String: Any]] ?? []
var problems: [String] = []
if wanted.count != detections.count {
    problems.append("\(detections.count) detections, detr predict has \(wanted.count)")
}
for (d, w) in zip(detections, wanted) {
    let box = (w["box"] as? [Double]) ?? []
    let score = (w["score"] as? Double) ?? -1
    if d.label != w["label"] as? Int || abs(Double(d.score) - score) > 1e-5 || box.count != 4
        || zip(d.box.corners, box).contains(where: { abs(Double($0) - $1) > 1e-3 })
    {
        problems.append("\(d) differs from \(w)")
    }
}
guard problems.isEmpty, !detections.isEmpty else {
    FileHandle.standardError.write(
        Data("consumer: \(problems.isEmpty ? "no detections" : problems.joined(separator: "; "))\n".utf8))
    exit(1)
}
print("consumer: \(detections.count) detections, as detr predict")
