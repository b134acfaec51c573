import Foundation
import TestSupport
import Testing
import Vision

/// `detr evaluate --report`, `detr plot` and `detr show-dataset` end to end: the files each one
/// writes for `detr synth` data and a toy training run, and the one-line errors that leave no
/// half-written output.
@Suite(.serialized) struct ReportCLITests {
    static let config = """
        {"architecture": "conditional_detr", "num_classes": 4, "num_queries": 8, "hidden_dim": 32, "num_heads": 4,
         "num_encoder_layers": 1, "num_decoder_layers": 2, "dim_feedforward": 32, "dropout": 0.0,
         "backbone": {"block": "basic", "layers": [1, 1, 1, 1]}, "min_size": 64, "max_size": 96, "num_select": 8}
        """

    static func temporaryDirectory(_ label: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The files under `dir`, relative, sorted (hidden ones included, so a left-over staging
    /// directory would show).
    static func listing(_ dir: URL) -> [String] {
        let e = FileManager.default.enumerator(atPath: dir.path)
        var files: [String] = []
        while let path = e?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: dir.appendingPathComponent(path).path, isDirectory: &isDirectory)
            if !isDirectory.boolValue { files.append(path) }
        }
        return files.sorted()
    }

    static func png(_ url: URL) throws -> Image { try Image(contentsOf: url) }

    @Test func synthTrainPlotReportAndShowDataset() throws {
        let dir = try Self.temporaryDirectory("report-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("shapes").path, run = dir.appendingPathComponent("run").path
        let config = dir.appendingPathComponent("tiny.json")
        try Data(Self.config.utf8).write(to: config)
        let s = try DetrProcess.run(["synth", "--output", data, "--images", "10", "--seed", "5", "--size", "64-80"])
        #expect(s.status == 0, "\(s.stderr)")
        let t = try DetrProcess.run([
            "train", "--config", config.path, "--train-images", data + "/train",
            "--train-annotations", data + "/annotations/train.json", "--val-images", data + "/val",
            "--val-annotations", data + "/annotations/val.json", "--output", run, "--batch-size", "4",
            "--workers", "1", "--epochs", "2", "--quiet",
        ])
        #expect(t.status == 0, "\(t.stderr)")

        // plot: one log, default output next to it.
        let p = try DetrProcess.run(["plot", run + "/log.jsonl"])
        #expect(p.status == 0, "\(p.stderr)")
        let plots = URL(fileURLWithPath: run).appendingPathComponent("plots")
        #expect(Self.listing(plots) == ["coco.png", "losses.png", "losses_aux.png", "lr.png"])
        #expect(p.stdout.split(separator: "\n").count == 4)
        for name in Self.listing(plots) {
            let image = try Self.png(plots.appendingPathComponent(name))
            #expect(image.width >= 600 && image.height >= 300, "\(name) \(image.width)x\(image.height)")
        }
        // Two runs on the same charts.
        let second = dir.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: run + "/log.jsonl", toPath: second.appendingPathComponent("log.jsonl").path)
        let compare = dir.appendingPathComponent("compare")
        let p2 = try DetrProcess.run([
            "plot", run + "/log.jsonl", second.appendingPathComponent("log.jsonl").path, "--output", compare.path,
            "--smoothing", "0.5",
        ])
        #expect(p2.status == 0, "\(p2.stderr)")
        #expect(Self.listing(compare) == ["coco.png", "losses.png", "losses_aux.png", "lr.png"])

        // evaluate --report with the detector form.
        let report = dir.appendingPathComponent("report")
        let e = try DetrProcess.run([
            "evaluate", "--config", config.path, "--weights", run + "/checkpoint.safetensors",
            "--images", data + "/val", "--annotations", data + "/annotations/val.json", "--json",
            "--report", report.path, "--all-classes", "--conf", "0.05",
        ])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) is [String: Any])
        let files = Self.listing(report)
        for required in [
            "summary.md", "per_class.csv", "pr_curves.png", "confusion_matrix.png", "confusion_matrix.csv",
        ] {
            #expect(files.contains(required), "\(files)")
        }
        let csv = try String(contentsOf: report.appendingPathComponent("confusion_matrix.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("ground_truth\\predicted,circle,rectangle,triangle,background\n"))
        // Every GT box of the val split is counted once in its row.
        let val = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: data + "/annotations/val.json")))
                as? [String: Any])
        let boxes = (val["annotations"] as? [Any])?.count ?? -1
        let rows = csv.split(separator: "\n").dropFirst().dropLast()
        let counted = rows.map { $0.split(separator: ",").dropFirst().compactMap { Int($0) }.reduce(0, +) }.reduce(0, +)
        #expect(counted == boxes)

        // show-dataset, plain and with the augmentation.
        let shown = dir.appendingPathComponent("shown")
        let d = try DetrProcess.run([
            "show-dataset", "--images", data + "/train", "--annotations", data + "/annotations/train.json",
            "--output", shown.path, "--limit", "3",
        ])
        #expect(d.status == 0, "\(d.stderr)")
        let train = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: data + "/annotations/train.json"))) as? [String: Any])
        let entries = try #require(train["images"] as? [[String: Any]])
            .sorted { ($0["id"] as! Int) < ($1["id"] as! Int) }
        let stems = entries.prefix(3).map { ($0["file_name"] as! String).replacingOccurrences(of: ".png", with: "") }
        #expect(Self.listing(shown) == stems.map { $0 + ".png" }.sorted())
        let first = try Self.png(shown.appendingPathComponent(stems[0] + ".png"))
        let original = try Image(
            contentsOf: URL(fileURLWithPath: data + "/train/" + (entries[0]["file_name"] as! String)))
        // Enlarged to 360 pixels on the shorter side, aspect ratio kept.
        #expect(min(first.width, first.height) == 360)
        #expect(
            abs(Double(first.width) / Double(first.height) - Double(original.width) / Double(original.height)) < 0.02)

        let augmented = dir.appendingPathComponent("augmented")
        let id = entries[1]["id"] as! Int
        let a = try DetrProcess.run([
            "show-dataset", "--images", data + "/train", "--annotations", data + "/annotations/train.json",
            "--output", augmented.path, "--ids", "\(id)", "--augment", "--config", config.path, "--variants", "2",
        ])
        #expect(a.status == 0, "\(a.stderr)")
        #expect(Self.listing(augmented) == [stems[1] + ".augmented.png"])
        let sheet = try Self.png(augmented.appendingPathComponent(stems[1] + ".augmented.png"))
        // Three panels (the original and 2 samples) of 360 pixels height side by side.
        #expect(sheet.height > 360 && sheet.width > 3 * 200)
    }

    @Test func errorsNameTheFileAndLeaveNothing() throws {
        let dir = try Self.temporaryDirectory("report-cli-errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A log that is not one.
        let bad = dir.appendingPathComponent("log.jsonl")
        try Data("{\"step\": 1, \"loss\": 2.0}\nnot json\n{\"step\": 2, \"loss\": 1.5}\n".utf8).write(to: bad)
        let out = dir.appendingPathComponent("plots")
        let p = try DetrProcess.run(["plot", bad.path, "--output", out.path])
        #expect(p.status == 1)
        #expect(
            p.stderr
                == "detr: error: \(bad.path): line 2 is not a JSON object (expected a training log written by detr train)\n"
        )
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let missing = try DetrProcess.run(["plot", dir.appendingPathComponent("none.jsonl").path])
        #expect(missing.status == 1 && missing.stderr.contains("none.jsonl: no such file"))

        // A dataset whose second image is missing: no picture at all.
        let data = dir.appendingPathComponent("shapes").path
        let s = try DetrProcess.run(["synth", "--output", data, "--images", "4", "--seed", "1"])
        #expect(s.status == 0, "\(s.stderr)")
        let gt = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: data + "/annotations/train.json"))) as? [String: Any])
        let images = try #require(gt["images"] as? [[String: Any]]).sorted { ($0["id"] as! Int) < ($1["id"] as! Int) }
        let gone = data + "/train/" + (images[1]["file_name"] as! String)
        try FileManager.default.removeItem(atPath: gone)
        let shown = dir.appendingPathComponent("shown")
        let d = try DetrProcess.run([
            "show-dataset", "--images", data + "/train", "--annotations", data + "/annotations/train.json",
            "--output", shown.path,
        ])
        #expect(d.status == 1)
        #expect(d.stderr == "detr: error: \(gone): no such file\n")
        #expect(!FileManager.default.fileExists(atPath: shown.path))
        let unknown = try DetrProcess.run([
            "show-dataset", "--images", data + "/train", "--annotations", data + "/annotations/train.json",
            "--output", shown.path, "--ids", "99999",
        ])
        #expect(unknown.status == 1 && unknown.stderr.contains("train.json: has no image with id 99999"))
        let usage = try DetrProcess.run([
            "show-dataset", "--images", data, "--annotations", "x.json", "--output", shown.path, "--augment",
        ])
        #expect(usage.status == 64)
    }

    @Test(.needsFixtures) func resultsReportHasPycocotoolsPerClassNumbers() throws {
        let fixtures = try TestSupport.fixtures("coco_eval")
        let dir = try Self.temporaryDirectory("report-cli-fixture")
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = dir.appendingPathComponent("report")
        let r = try DetrProcess.run([
            "evaluate", "--annotations", fixtures.appendingPathComponent("gt.json").path,
            "--results", fixtures.appendingPathComponent("detections.json").path, "--report", report.path, "--quiet",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]"))
        // pycocotools' per-category results of the fixture (`expected.json`).
        let expected = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))
                as? [String: Any])
        let perCategory = try #require(
            (expected["default"] as? [String: Any])?["per_category"] as? [String: [String: Any]])
        // A picture per class with ground truth (AP defined), named after the class; all of them
        // while there are at most 10 (twice the default extremes).
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        let pictured = try perCategory.values.filter { try #require($0["ap_50_95"] as? Double) > -1 }
            .map { String((($0["name"] as? String) ?? "").map { allowed.contains($0) ? $0 : "_" }) }
        try #require(!pictured.isEmpty && pictured.count <= 10, "the fixture has \(pictured.count) classes with AP")
        #expect(
            Self.listing(report)
                == (["confusion_matrix.csv", "confusion_matrix.png", "per_class.csv", "pr_curves.png", "summary.md"]
                    + pictured.map { "pr_curves_per_class/\($0).png" }).sorted())
        // per_class.csv: ids in order, AP/AP50/AP75 equal to pycocotools' per-category values.
        let lines = try String(contentsOf: report.appendingPathComponent("per_class.csv"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.first == "category_id,name,ap,ap50,ap75,ap_small,ap_medium,ap_large,num_gt")
        #expect(lines.count == 1 + perCategory.count)
        for line in lines.dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            let reference = try #require(perCategory[f[0]])
            #expect(f[1] == reference["name"] as? String)
            for (column, key) in [(2, "ap_50_95"), (3, "ap_50"), (4, "ap_75")] {
                let want = try #require(reference[key] as? Double)
                #expect(abs(Double(f[column])! - want) <= 1e-15, "\(f[1]) \(key)")
            }
        }
        let summary = try String(contentsOf: report.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(summary.contains("| AP | 0.50:0.95 | all | 100 |"))
        #expect(summary.contains("![confusion matrix](confusion_matrix.png)"))
    }
}
