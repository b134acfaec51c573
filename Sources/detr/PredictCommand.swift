import ArgumentParser
import Detection
import Foundation
import Records
import Torch
import Video
import Vision

/// `detr predict`: run a detector on images and videos and write detections (JSON) and pictures.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Detect objects in images and videos.",
        discussion: """
            Images are padded and run together in batches of --batch-size, in argument order (directories \
            are expanded to their .jpg/.jpeg/.png files, sorted), as the official evaluation batches them. \
            An image that cannot be read is reported and skipped; the exit code is then 1.

            Videos (\(VideoFile.extensions.sorted().joined(separator: ", "))) are decoded with FFmpeg; their \
            frames (every --every-th) run in batches of --batch-size like images. With any video among the \
            inputs, the output is JSON Lines: one object per line for every image and every frame, in input \
            order; a frame's object has the image fields plus "frame" (its index in the video) and "time" \
            (seconds). --save-dir gets NAME.annotated.EXT, the frames with their detections, in the input's \
            container (mp4 for containers that are only read) at the input's frame rate divided by --every. \
            A video that cannot be read or decoded is reported in one line; its annotated video is then not \
            written.
            """)

    @OptionGroup var model: ModelOptions

    @Option(parsing: .unconditional, help: "Drop detections scoring below this (0 keeps all).")
    var threshold: Float = 0.3

    @Option(
        name: .customLong("top-k"), parsing: .unconditional,
        help: "At most this many detections per image (default: the config's num_select).")
    var topK: Int?

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Images per forward pass.")
    var batchSize: Int = 1

    @Option(help: "Write the detections JSON here (default: standard output).")
    var output: String?

    @Option(name: .customLong("save-dir"), help: "Write each image with its detections drawn into this directory.")
    var saveDir: String?

    @Option(parsing: .unconditional, help: "Videos: run every N-th frame (frames 0, N, 2N, ...).")
    var every: Int = 1

    @Option(
        name: .customLong("max-megapixels"), parsing: .unconditional,
        help: "Refuse (report and skip) images larger than this, in millions of pixels, read from their headers.")
    var maxMegapixels = Double(PredictLimits.defaultPixelLimit) / 1_000_000

    @Flag(name: .customLong("no-exif"), help: "Do not apply EXIF orientation to JPEGs nor rotation metadata to videos.")
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

    @Argument(help: "Image files, directories of images, or video files.")
    var inputs: [String]

    func validate() throws {
        try model.require()
        guard (1...1024).contains(batchSize) else {
            throw ValidationError("--batch-size must be in 1...1024, got \(batchSize)")
        }
        guard every >= 1 else { throw ValidationError("--every must be at least 1, got \(every)") }
        guard threshold >= 0 && threshold <= 1 else {
            throw ValidationError("--threshold must be in [0, 1], got \(threshold)")
        }
        if let topK, !(1...100_000).contains(topK) {
            throw ValidationError("--top-k must be in 1...100000, got \(topK)")
        }
        guard maxMegapixels > 0 && maxMegapixels <= 10_000 else {
            throw ValidationError("--max-megapixels must be in (0, 10000], got \(maxMegapixels)")
        }
        if showSalience && saveDir == nil { throw ValidationError("--show-salience needs --save-dir") }
        guard !inputs.isEmpty else { throw ValidationError("give at least one image or directory") }
    }

    func run() throws {
        let files: [String]
        let predictor: Predictor
        let pictures: PictureNames
        do {
            files = try ImageInputs.expand(inputs)
            // Where the results go is checked before any work, so a run cannot fail at its end.
            if let output { try OutputLocation.checkWritableFile(output) }
            if let saveDir { try OutputLocation.prepareDirectory(saveDir) }
            pictures = PictureNames(files)
            predictor = try model.loadPredictor()
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        let config = predictor.config
        let recipe = config.recipe
        let names = predictor.names
        if showSalience && !recipe.hasSalienceMaps {
            Terminal.note(
                """
                detr: note: --show-salience: \(config.architecture.rawValue) has no salience maps; only detections \
                are drawn
                """
            )
        }
        if saveDir != nil && pictures.mirrorsPaths && !quiet {
            Terminal.note(
                """
                detr: note: inputs share file names: --save-dir mirrors their paths below \
                \(pictures.commonDirectory.isEmpty ? "/" : pictures.commonDirectory)
                """)
        }
        let pixelLimit = Int(maxMegapixels * 1_000_000)
        let options = DetectionOptions(threshold: threshold, topK: topK)
        let plan = PredictInput.plan(files, batchSize: batchSize)
        let hasVideo = plan.contains(where: \.isVideo)
        if showSalience && hasVideo {
            Terminal.note("detr: note: --show-salience: salience maps are drawn for images only, not video frames")
        }
        // Progress counts images and kept video frames (as the videos' headers give them).
        let counts = plan.map { $0.imageCount ?? keptFrameEstimate($0.videoFile ?? "") }
        var results: [PredictOutput] = []
        var failures = 0
        let progress = ProgressBar(
            total: counts.reduce(0, +), label: "predict", enabled: !quiet && Terminal.stderrIsTTY,
            unit: hasVideo ? " frames/s" : "/s")
        for (input, count) in zip(plan, counts) {
            let chunk: [String]
            switch input {
            case .images(let files): chunk = files
            case .video(let file):
                let (records, ok) = predictVideo(
                    file, predictor: predictor, options: options, progress: progress, estimate: count,
                    pictures: pictures)
                results += records.map(PredictOutput.frame)
                if !ok { failures += 1 }
                continue
            }
            var images: [(file: String, image: Image)] = []
            for file in chunk {
                do {
                    images.append((file, try PredictLimits.readImage(file, pixelLimit: pixelLimit, exif: !noExif)))
                } catch {
                    failures += 1
                    Terminal.error("\(error)")
                }
            }
            progress.advance(by: chunk.count - images.count)
            guard !images.isEmpty else { continue }
            let started = Date()
            let prediction: Prediction
            do {
                prediction = try predictor.predict(images.map(\.image), options: options)
            } catch {
                for item in images { Terminal.error("\(item.file): \(error)") }
                failures += images.count
                progress.advance(by: images.count)
                continue
            }
            let (dets, out, batch) = (prediction.detections, prediction.output, prediction.batch)
            for (i, item) in images.enumerated() {
                let record = PredictionRecord(
                    file: item.file, width: item.image.width, height: item.image.height,
                    detections: dets[i], names: names)
                results.append(.image(record))
                if let saveDir {
                    do {
                        let drawn = record.drawn(on: item.image)
                        let picture = pictures.url(for: item.file, in: saveDir)
                        try OutputLocation.prepareDirectory(picture.deletingLastPathComponent().path)
                        try drawn.write(to: picture)
                        if showSalience, let maps = out.salience {
                            let panel = SalienceRendering.render(
                                maps, index: i, image: item.image,
                                resizedSize: batch.imageSizes[i],
                                paddedSize: (batch.images.size(2), batch.images.size(3)),
                                detections: drawn)
                            try panel.write(
                                to: pictures.url(for: item.file, in: saveDir, suffix: "salience", ext: "png"))
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
        do { json = try PredictOutput.json(results, lines: hasVideo) } catch {
            Terminal.error("cannot encode the detections: \(error)")
            throw ExitCode(1)
        }
        if let output {
            do { try AtomicFile.write(Data(json.utf8), to: URL(fileURLWithPath: output)) } catch {
                Terminal.error("\(error)")
                throw ExitCode(1)
            }
            if !quiet && Terminal.stderrIsTTY {
                Terminal.note(
                    "wrote \(results.count) \(hasVideo ? "images' and frames'" : "images'") detections to \(output)")
            }
        } else {
            do { try StandardOutput.write(hasVideo ? json : json + "\n") } catch {  // JSON Lines end with a newline
                Terminal.error("\(error)")
                throw ExitCode(1)
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }

}
