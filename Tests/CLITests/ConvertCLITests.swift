import Foundation
import TestSupport
import Testing

/// `detr convert`: a synthetic COCO set written as a YOLO dataset (labels beside the images)
/// converts back to the same boxes; a bad label line fails with one line naming file and line.
@Suite struct ConvertCLITests {
    @Test func yoloRoundTripsThroughConvert() throws {
        let dir = try TestSupport.temporaryDirectory("convert")
        defer { try? FileManager.default.removeItem(at: dir) }
        let synth = dir.appendingPathComponent("synth").path
        let s = try DetrProcess.run(["synth", "--output", synth, "--images", "6", "--seed", "2", "--size", "64-96"])
        #expect(s.status == 0, "\(s.stderr)")
        let cocoURL = URL(fileURLWithPath: synth + "/annotations/train.json")
        let coco = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: cocoURL)) as? [String: Any])
        let images = try #require(coco["images"] as? [[String: Any]])
        let annotations = try #require(coco["annotations"] as? [[String: Any]])
        let categories = try #require(coco["categories"] as? [[String: Any]])

        // The YOLO layout: images/train, labels/train, data.yaml; class index = COCO category id.
        let root = dir.appendingPathComponent("yolo")
        let imageDir = root.appendingPathComponent("images/train"), labelDir = root.appendingPathComponent("labels/train")
        for d in [imageDir, labelDir] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        var names = ["unused"]
        for c in categories.sorted(by: { ($0["id"] as! Int) < ($1["id"] as! Int) }) {
            #expect(c["id"] as? Int == names.count)
            names.append(c["name"] as! String)
        }
        try Data(("names: [" + names.joined(separator: ", ") + "]\n").utf8).write(to: root.appendingPathComponent("data.yaml"))
        for image in images {
            let file = image["file_name"] as! String, id = image["id"] as! Int
            let (w, h) = (Double(image["width"] as! Int), Double(image["height"] as! Int))
            try FileManager.default.copyItem(
                at: URL(fileURLWithPath: synth + "/train/" + file), to: imageDir.appendingPathComponent(file))
            let lines = annotations.filter { $0["image_id"] as? Int == id }.map { a -> String in
                let b = (a["bbox"] as! [Any]).map { ($0 as! NSNumber).doubleValue }
                return "\(a["category_id"] as! Int) \((b[0] + b[2] / 2) / w) \((b[1] + b[3] / 2) / h) \(b[2] / w) \(b[3] / h)"
            }
            try Data(lines.joined(separator: "\n").utf8).write(
                to: labelDir.appendingPathComponent((file as NSString).deletingPathExtension + ".txt"))
        }

        let out = dir.appendingPathComponent("converted.json").path
        let r = try DetrProcess.run([
            "convert", "--annotations", root.appendingPathComponent("data.yaml").path, "--images", imageDir.path,
            "--output", out,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let converted = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let cImages = try #require(converted["images"] as? [[String: Any]])
        let cAnnotations = try #require(converted["annotations"] as? [[String: Any]])
        #expect(cImages.count == images.count && cAnnotations.count == annotations.count)
        // Same boxes per file name (YOLO keeps no ids; within float rounding of the normalisation).
        func boxes(_ imgs: [[String: Any]], _ anns: [[String: Any]]) -> [String: [[Double]]] {
            let names = Dictionary(uniqueKeysWithValues: imgs.map { ($0["id"] as! Int, $0["file_name"] as! String) })
            var out: [String: [[Double]]] = [:]
            for a in anns {
                let b = (a["bbox"] as! [Any]).map { ($0 as! NSNumber).doubleValue }
                out[names[a["image_id"] as! Int]!, default: []].append([Double(a["category_id"] as! Int)] + b)
            }
            return out.mapValues { $0.sorted { $0.lexicographicallyPrecedes($1) } }
        }
        let (want, got) = (boxes(images, annotations), boxes(cImages, cAnnotations))
        #expect(Set(want.keys) == Set(got.keys))
        for (file, w) in want {
            let g = try #require(got[file])
            #expect(g.count == w.count)
            for (a, b) in zip(w, g) { #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-6 }, "\(file): \(a) vs \(b)") }
        }

        // show-dataset reads the YOLO dataset directly; --annotation-format overrides the path's.
        let yaml = root.appendingPathComponent("data.yaml").path
        let shown = try DetrProcess.run([
            "show-dataset", "--images", imageDir.path, "--annotations", yaml, "--output", dir.appendingPathComponent("shown").path,
            "--limit", "2",
        ])
        #expect(shown.status == 0, "\(shown.stderr)")
        let pictures = (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("shown").path)) ?? []
        #expect(pictures.filter { $0.hasSuffix(".png") }.count == 2, "\(pictures)")
        let forced = try DetrProcess.run([
            "show-dataset", "--images", imageDir.path, "--annotations", yaml, "--annotation-format", "coco",
            "--output", dir.appendingPathComponent("shown2").path,
        ])
        #expect(forced.status != 0 && forced.stderr.contains("data.yaml"), "\(forced.stderr)")

        // A label line naming a class data.yaml lacks: one line naming the file and line.
        let bad = labelDir.appendingPathComponent("000001.txt")
        try Data("\(names.count) 0.5 0.5 0.1 0.1\n".utf8).write(to: bad)
        let e = try DetrProcess.run([
            "convert", "--annotations", root.appendingPathComponent("data.yaml").path, "--images", imageDir.path,
            "--output", out,
        ])
        #expect(e.status == 1)
        #expect(e.stderr.contains("000001.txt:1") && e.stderr.contains("class \(names.count)"), "\(e.stderr)")
    }
}
