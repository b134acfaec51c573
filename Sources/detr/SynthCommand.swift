import ArgumentParser
import Datasets
import Foundation

/// `detr synth --output DIR --images N`: writes a synthetic COCO-format shapes dataset.
struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate a small COCO-format dataset of shapes for smoke-training and tests.",
        discussion: """
            Draws 1-4 circles, rectangles and triangles (category ids 1, 2, 3) per image on textured \
            backgrounds and writes DIR/train/*.png, DIR/val/*.png, DIR/annotations/train.json and \
            DIR/annotations/val.json. About 20% of the images (at least one) go to the validation \
            split. The same seed and options always give the same files.
            """
    )

    @Option(
        name: .shortAndLong, help: "Directory to write into (created if missing; files of the same names are replaced)."
    )
    var output: String

    @Option(help: "Total number of images, train and val together (at least 2).")
    var images: Int

    @Option(help: "Random seed: the same seed gives the same dataset.")
    var seed: UInt64 = 0

    @Option(
        help: ArgumentHelp(
            "Image side range in pixels, MIN-MAX or a single size (default 96-160).",
            valueName: "min-max"))
    var size: String = "96-160"

    @Option(
        help: """
            What the categories say: shape (circle 1, rectangle 2, triangle 3) or shape-size (small and large \
            circle 1, 2, rectangle 3, 4, triangle 5, 6). The images are the same.
            """)
    var classes: SyntheticShapes.Labels = .shape

    @Option(help: "Fraction of the images used for validation (0-1).")
    var valFraction: Double = 0.2

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard images >= 2 else {
            throw ValidationError("--images must be at least 2 (one train and one val image), got \(images)")
        }
        guard Self.parseSize(size) != nil else {
            throw ValidationError(
                "--size must be MIN-MAX or a single size with 8 <= MIN <= MAX (e.g. 96-160), got '\(size)'")
        }
        guard valFraction > 0, valFraction < 1 else {
            throw ValidationError("--val-fraction must lie in (0, 1), got \(valFraction)")
        }
    }

    /// "96-160" → 96...160, "128" → 128...128; nil when malformed or below 8 px.
    static func parseSize(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let lo = parts.first!, let hi = parts.last!, lo >= 8, lo <= hi else {
            return nil
        }
        return lo...hi
    }

    func run() throws {
        var generator = SyntheticShapes(seed: seed, sizeRange: Self.parseSize(size)!)
        generator.labels = classes
        let directory = URL(fileURLWithPath: output)
        let bar = ProgressBar(total: images, label: "synth")
        let summary: SyntheticShapes.Summary
        do {
            summary = try generator.write(to: directory, images: images, validationFraction: valFraction) { _ in
                bar.advance()
            }
        } catch {
            bar.finish()
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        bar.finish()
        if json {
            let report = Report(
                output: directory.path, seed: seed,
                train: .init(
                    images: summary.trainImages, objects: summary.trainObjects,
                    annotations: summary.trainAnnotations.path),
                val: .init(
                    images: summary.valImages, objects: summary.valObjects,
                    annotations: summary.valAnnotations.path))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(
                """
                train: \(summary.trainImages) images, \(summary.trainObjects) objects → \
                \(summary.trainAnnotations.path)
                """
            )
            print("val:   \(summary.valImages) images, \(summary.valObjects) objects → \(summary.valAnnotations.path)")
        }
    }

    /// The `--json` summary.
    struct Report: Encodable {
        struct Split: Encodable {
            var images: Int
            var objects: Int
            var annotations: String
        }

        var output: String
        var seed: UInt64
        var train: Split
        var val: Split
    }
}

extension SyntheticShapes.Labels: ExpressibleByArgument {}
