import ArgumentParser
import COCO
import Datasets
import Foundation
import Torch

/// `detr convert`: YOLO or VOC annotations as a COCO annotation file.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write YOLO or Pascal VOC annotations as a COCO annotation file.",
        discussion: """
            YOLO: --annotations is the dataset's data.yaml (class names) and --images a split's image folder; each \
            image's labels are read from the matching labels/ folder (images/train/a.jpg -> labels/train/a.txt), and \
            the image sizes from the image files. Category ids are the class indices as written. VOC: --annotations is \
            an Annotations folder or a set file ImageSets/Main/<split>.txt. The other tools read these formats \
            directly too (detr train, evaluate, show-dataset).
            """)

    @Option(help: "The format read: yolo or voc (default: told by the --annotations path).")
    var from: String?

    @Option(help: "The format written (coco).")
    var to: String = "coco"

    @Option(help: "data.yaml (YOLO), or an Annotations folder or ImageSets/Main/<split>.txt (VOC).")
    var annotations: String

    @Option(help: "The images of the split (YOLO: required; their sizes and the label files' places come from them).")
    var images: String?

    @Option(help: "The COCO annotation file to write.")
    var output: String

    func validate() throws {
        guard to.lowercased() == "coco" else { throw ValidationError("--to: only coco is written") }
        if let from, !["yolo", "voc"].contains(from.lowercased()) {
            throw ValidationError("--from must be yolo or voc, not '\(from)'")
        }
    }

    func run() throws {
        do {
            let source = URL(fileURLWithPath: annotations)
            let format = from.flatMap { AnnotationFormat(rawValue: $0.lowercased()) }
            let dataset = try DetectionAnnotations.load(
                source, images: images.map { URL(fileURLWithPath: $0) }, format: format, displayName: annotations)
            try AtomicFile.write(try dataset.jsonData(), to: URL(fileURLWithPath: output))
            print(
                "wrote \(output): \(dataset.images.count) images, \(dataset.annotations.count) annotations, "
                    + "\(dataset.categories.count) categories")
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
    }
}
