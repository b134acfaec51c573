import ArgumentParser
import Detection
import Foundation
import Records
import Torch
import Vision

/// `detr predict`: run a detector on images and write detections (JSON) and pictures.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Detect objects in images.",
        discussion: """
            Images are padded and run together in batches of --batch-size, in argument order (directories \
            are expanded to their .jpg/.jpeg/.png files, sorted), as the official evaluation batches them. \
            An image that cannot be read is reported and skipped; the exit code is then 1.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Drop detections scoring below this (0 keeps all).")
    var threshold: Float = 0.3

    @Option(
        name: .customLong("top-k"), help: "At most this many detections per image (default: the config's num_select).")
    var topK: Int?

    @Option(name: .customLong("batch-size"), help: "Images per forward pass.")
    var batchSize: Int = 1

    @Option(help: "Write the detections JSON here (default: standard output).")
    var output: String?

    @Option(name: .customLong("save-dir"), help: "Write each image with its detections drawn into this directory.")
    var saveDir: String?

    @Flag(name: .customLong("no-exif"), help: "Do not apply EXIF orientation to JPEGs.")
    var noExif = false

    @Flag(
        name: .customLong("show-salience"),
        help:
            """
            Salience DETR: also write NAME.salience.png in --save-dir: the foreground-score map of every feature \
            level over the image.
            """
    )
    var showSalience = false

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "One line per image on stderr: detections kept and batch time.")
    var verbose = false

    @Argument(help: "Image files or directories.")
    var inputs: [String]

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard threshold >= 0 && threshold <= 1 else { throw ValidationError("--threshold must be in [0, 1]") }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
        if showSalience && saveDir == nil { throw ValidationError("--show-salience needs --save-dir") }
        guard !inputs.isEmpty else { throw ValidationError("give at least one image or directory") }
    }

    func run() throws {
        let files: [String]
        let detector: any Detector
        let names: [String]
        do {
            files = try ImageInputs.expand(inputs)
            (detector, names) = try model.loadDetectorAndNames()
            if let saveDir {
                try FileManager.default.createDirectory(atPath: saveDir, withIntermediateDirectories: true)
            }
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        let config = detector.config
        let recipe = config.recipe
        if showSalience && !recipe.hasSalienceMaps {
            Terminal.note(
                """
                detr: note: --show-salience: \(config.architecture.rawValue) has no salience maps; only detections \
                are drawn
                """
            )
        }
        let transform = recipe.evalTransform
        var post = recipe.postProcess
        if let topK { post.numSelect = topK }
        let device = model.device
        var results: [PredictionRecord] = []
        var failures = 0
        let progress = ProgressBar(total: files.count, label: "predict", enabled: !quiet && Terminal.stderrIsTTY)
        for start in stride(from: 0, to: files.count, by: batchSize) {
            let chunk = Array(files[start..<Swift.min(start + batchSize, files.count)])
            var images: [(file: String, image: Image)] = []
            for file in chunk {
                do {
                    images.append(
                        (file, try Image(contentsOf: URL(fileURLWithPath: file), applyExifOrientation: !noExif)))
                } catch {
                    failures += 1
                    Terminal.error("\(error)")
                }
            }
            progress.advance(by: chunk.count - images.count)
            guard !images.isEmpty else { continue }
            let batch = transform.batch(images.map(\.image)).to(device)
            let started = Date()
            let out = withNoGrad { detector(batch, options: ForwardOptions(precision: model.precision)) }
            let dets = post.detections(
                logits: out.final.logits, boxes: out.final.boxes,
                originalSizes: batch.originalSizes, threshold: threshold, topK: topK)
            for (i, item) in images.enumerated() {
                let record = PredictionRecord(
                    file: item.file, width: item.image.width, height: item.image.height,
                    detections: dets[i], names: names)
                results.append(record)
                if let saveDir {
                    do {
                        let drawn = record.drawn(on: item.image)
                        try drawn.write(to: Self.picturePath(for: item.file, in: saveDir))
                        if showSalience, let maps = out.salience {
                            let panel = SalienceRendering.render(
                                maps, index: i, image: item.image,
                                resizedSize: batch.imageSizes[i],
                                paddedSize: (batch.images.size(2), batch.images.size(3)),
                                detections: drawn)
                            let name = ((item.file as NSString).lastPathComponent as NSString).deletingPathExtension
                            try panel.write(
                                to: URL(fileURLWithPath: saveDir).appendingPathComponent("\(name).salience.png"))
                        }
                    } catch {
                        failures += 1
                        Terminal.error("\(error)")
                    }
                }
                progress.advance(detail: (item.file as NSString).lastPathComponent)
                if verbose && !quiet {
                    Terminal.note(
                        String(
                            format: "%@: %d detections (batch of %d in %.0f ms)", item.file, dets[i].count,
                            images.count, Date().timeIntervalSince(started) * 1000))
                }
            }
        }
        progress.finish()
        let json: String
        do { json = try PredictionRecord.json(results) } catch {
            Terminal.error("cannot encode the detections: \(error)")
            throw ExitCode(1)
        }
        if let output {
            do { try AtomicFile.write(Data(json.utf8), to: URL(fileURLWithPath: output)) } catch {
                Terminal.error("\(error)")
                throw ExitCode(1)
            }
            if !quiet && Terminal.stderrIsTTY {
                Terminal.note("wrote \(results.count) images' detections to \(output)")
            }
        } else {
            print(json)
        }
        if failures > 0 { throw ExitCode(1) }
    }

    static func picturePath(for file: String, in dir: String) -> URL {
        URL(fileURLWithPath: dir).appendingPathComponent((file as NSString).lastPathComponent)
    }
}
