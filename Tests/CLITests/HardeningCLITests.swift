import Foundation
import TestSupport
import Testing
import Torch
import Vision

/// `detr` as a careless user runs it: absurd configs and options, huge images, unwritable or full
/// outputs, inputs that share names. Each is one line naming the file or option, the right exit
/// code, and nothing lost or left behind.
@Suite struct HardeningCLITests {
    static let demo = ["--config", "demo/shapes-salience.json", "--weights", "demo/shapes-salience.safetensors"].map {
        $0.hasPrefix("demo/") ? TestSupport.repoRoot.appendingPathComponent($0).path : $0
    }
    static let sample = TestSupport.repoRoot.appendingPathComponent("demo/samples/shapes-1.png").path

    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("detr-hardening-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A PNG whose header says `width` x `height` (8-bit RGB) with a one-byte image stream: what a
    /// decompression bomb shows before its pixels are decoded.
    static func pngHeader(width: Int, height: Int) -> Data {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            let crc = typed.withUnsafeBytes { Torch.crc32($0) }
            return be32(body.count) + typed + be32(Int(crc))
        }
        func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((v >> $0) & 0xFF) } }
        let ihdr = be32(width) + be32(height) + [8, 2, 0, 0, 0]
        let bytes =
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", [0x78])
            + chunk("IEND", [])
        return Data(bytes)
    }

    @Test func absurdConfigNumbersAreOneLineErrors() throws {
        let tmp = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let base =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: Self.demo[1]))) as! [String: Any]
        for (key, value, expected) in [
            ("num_queries", 1_000_000_000_000 as Any, "'num_queries' must be in 1..."),
            ("dim_feedforward", 0, "'dim_feedforward' must be in 1..."),
            ("dropout", 1.5, "'dropout' must be in [0"),
            ("num_points", -3, "'num_points' must be in 1..."),
        ] {
            var config = base
            config[key] = value
            let file = tmp.appendingPathComponent("\(key).json")
            try JSONSerialization.data(withJSONObject: config).write(to: file)
            let r = try DetrProcess.run(["predict", "--config", file.path, "--weights", Self.demo[3], Self.sample])
            #expect(r.status == 1, "\(key): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(key): \(r.stderr)")
            #expect(r.stderr.contains(file.path) && r.stderr.contains(expected), "\(key): \(r.stderr)")
        }
    }

    /// Item 3: a 20000x20000 header is refused from the header (no gigabytes decoded), naming the
    /// limit; a lower --max-megapixels refuses the demo sample too; other images still run.
    @Test func imagesOverThePixelLimitAreRefusedFromTheirHeaders() throws {
        let tmp = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let bomb = tmp.appendingPathComponent("bomb.png")
        try Self.pngHeader(width: 20000, height: 20000).write(to: bomb)
        let r = try DetrProcess.run(["predict"] + Self.demo + ["-q", bomb.path, Self.sample])
        #expect(r.status == 1)
        #expect(
            r.stderr.contains("bomb.png: 20000x20000 is 400000000 pixels, more than the limit of 50000000"),
            "\(r.stderr)")
        let root = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect((root?["images"] as? [[String: Any]])?.count == 1)
        let low = try DetrProcess.run(["predict"] + Self.demo + ["-q", "--max-megapixels", "0.01", Self.sample])
        #expect(low.status == 1)
        #expect(low.stderr.contains("more than the limit of 10000 (--max-megapixels 0.01)"), "\(low.stderr)")
    }

    /// Items 9 and 10: a full device (as --output or as standard output) is an error naming it;
    /// an output in a missing directory or a --save-dir below a file fails before any inference.
    @Test func outputsAreCheckedBeforeTheWorkAndEveryWriteIsChecked() throws {
        let tmp = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        if FileManager.default.fileExists(atPath: "/dev/full") {
            let file = try DetrProcess.run(["predict"] + Self.demo + ["-q", "--output", "/dev/full", Self.sample])
            #expect(file.status == 1)
            #expect(file.stderr.contains("/dev/full: could not be written"), "\(file.stderr)")
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            let command = ([DetrProcess.executable.path, "predict"] + Self.demo + ["-q", Self.sample]).joined(
                separator: " ")
            shell.arguments = ["-c", "\(command) > /dev/full"]
            let err = Pipe()
            shell.standardError = err
            try shell.run()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            shell.waitUntilExit()
            #expect(shell.terminationStatus == 1)
            #expect(message.contains("standard output: cannot be written"), "\(message)")
        }
        let pictures = tmp.appendingPathComponent("pictures")
        let missing = tmp.appendingPathComponent("no-such-dir/out.json").path
        let r = try DetrProcess.run(
            ["predict"] + Self.demo + ["-q", "--output", missing, "--save-dir", pictures.path, Self.sample])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(missing): cannot be written: no such directory"), "\(r.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: pictures.path)) ?? []).isEmpty)
        let file = tmp.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let below = file.appendingPathComponent("pictures").path
        let s = try DetrProcess.run(["predict"] + Self.demo + ["-q", "--save-dir", below, Self.sample])
        #expect(s.status == 1)
        #expect(s.stderr == "detr: error: \(below): cannot create the directory: \(file.path) is not a directory\n")
    }

    /// Item 11: inputs with one file name in two folders keep both pictures.
    @Test func inputsThatShareANameKeepBothPictures() throws {
        let tmp = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        for folder in ["a", "b"] {
            let dir = tmp.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.sample, toPath: dir.appendingPathComponent("x.png").path)
        }
        let out = tmp.appendingPathComponent("out")
        let r = try DetrProcess.run(
            ["predict"] + Self.demo + [
                "--save-dir", out.path, tmp.appendingPathComponent("a").path,
                tmp.appendingPathComponent("b/x.png").path,
            ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("share file names"))
        for folder in ["a", "b"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(folder)/x.png").path))
        }
        // Distinct names stay flat in the directory.
        let flat = tmp.appendingPathComponent("flat")
        let f = try DetrProcess.run(["predict"] + Self.demo + ["-q", "--save-dir", flat.path, Self.sample])
        #expect(f.status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: flat.path) == ["shapes-1.png"])
    }

    /// Item 12: numeric options out of range (also space-separated negatives) are usage errors
    /// naming the range; a training run that cannot start leaves no output directory.
    @Test func numericOptionsAreRangeCheckedAndAFailedTrainLeavesNothing() throws {
        let tmp = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let output = tmp.appendingPathComponent("run").path
        let train = ["train", "--config", Self.demo[1], "--train-images", tmp.path, "--output", output]
        for (args, expected) in [
            (["predict"] + Self.demo + ["--top-k", "-1", Self.sample], "--top-k must be in 1...100000, got -1"),
            (
                ["predict"] + Self.demo + ["--threshold", "-0.5", Self.sample],
                "--threshold must be in [0, 1], got -0.5"
            ),
            (train + ["--train-annotations", "x.json", "--lr=-1"], "--lr must be in [0, 10], got -1.0"),
            (train + ["--train-annotations", "x.json", "--lr", "-1"], "--lr must be in [0, 10], got -1.0"),
            (train + ["--train-annotations", "x.json", "--epochs", "0"], "--epochs must be in 1...1000000, got 0"),
        ] {
            let r = try DetrProcess.run(args)
            #expect(r.status == 64, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
        let annotations = tmp.appendingPathComponent("bad.json")
        try Data("{\"images\": 3}".utf8).write(to: annotations)
        let r = try DetrProcess.run(train + ["--train-annotations", annotations.path, "-q"])
        #expect(r.status == 1)
        #expect(r.stderr.contains(annotations.path), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
