import ArgumentParser
import COCO
import Datasets
import Detection
import Foundation
import Graphics
import Reports
import Vision

/// `detr show-dataset`: the ground truth of a COCO-format dataset drawn on its images.
struct ShowDataset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show-dataset",
        abstract: "Draw a dataset's ground-truth boxes and class names on its images (and, optionally, augmented).",
        discussion: """
            Writes OUTPUT/NAME.png for the selected images (the first --limit by id, or --ids): boxes in class \
            colours with their names, crowd regions dashed and tinted as "name (crowd)". Images smaller than 360 \
            pixels on the shorter side are enlarged. With --augment and --config, writes OUTPUT/NAME.augmented.png \
            instead: the image next to --variants samples of the config's training augmentation (flip, resize, \
            crop, boxes transformed with the image), exactly those detr train --seed SEED feeds the model in \
            epochs 0, 1, ... (crowd regions and boxes the augmentation drops are not in them). The pictures \
            appear together or not at all; a missing image is an error naming it.
            """)

    @Option(help: "The image directory (file_name of each image is looked up in it).")
    var images: String

    @Option(help: "Annotations: a COCO .json, a YOLO data.yaml (labels beside the images) or a VOC Annotations folder or ImageSets/Main/<split>.txt.")
    var annotations: String

    @Option(name: .customLong("annotation-format"), help: "The annotations' format: coco, yolo or voc (default: told by the path).")
    var annotationFormat: AnnotationFormat?

    @Option(name: .shortAndLong, help: "Directory for the pictures (created if missing).")
    var output: String

    @Option(help: "Number of images, in ascending id order (ignored with --ids).")
    var limit: Int = 16

    @Option(help: "Comma-separated image ids to draw.")
    var ids: String?

    @Flag(help: "Show the training augmentation of --config.")
    var augment = false

    @Option(help: "A preset or JSON config whose training augmentation --augment shows.")
    var config: String?

    @Option(help: "With --augment: augmented samples per image (1-8).")
    var variants: Int = 3

    @Option(help: "With --augment: the random seed of the training run to reproduce (detr train's default is 42).")
    var seed: UInt64 = 42

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        if augment && config == nil { throw ValidationError("--augment needs --config (whose augmentation to show)") }
        if !augment && config != nil { throw ValidationError("--config is used with --augment") }
        guard (1...8).contains(variants) else { throw ValidationError("--variants must lie in 1...8") }
        _ = try selectedIds()
    }

    func selectedIds() throws -> [Int]? {
        guard let ids else { return nil }
        let items = ids.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = items.compactMap { Int($0) }
        guard !items.isEmpty, values.count == items.count else {
            throw ValidationError("--ids expects a comma-separated list of image ids, got '\(ids)'")
        }
        return values
    }

    func run() throws {
        let count: Int
        do { count = try draw() } catch let e as ExitCode { throw e } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        print("\(count) picture\(count == 1 ? "" : "s") in \(output)")
    }

    /// Draws every selected image into a staged output; returns the number of pictures.
    func draw() throws -> Int {
        let dataset = try DetectionAnnotations.load(
            URL(fileURLWithPath: annotations), images: URL(fileURLWithPath: images), format: annotationFormat,
            displayName: annotations)
        let byId = Dictionary(dataset.images.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let selected: [COCODataset.Image]
        if let ids = try selectedIds() {
            selected = try ids.map { id in
                guard let image = byId[id] else {
                    throw COCOError(.unknownReference, file: annotations, "has no image with id \(id)")
                }
                return image
            }
        } else {
            selected = Array(dataset.images.sorted { $0.id < $1.id }.prefix(limit))
        }
        let names = Dictionary(dataset.categories.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        var annotationsByImage: [Int: [COCODataset.Annotation]] = [:]
        for a in dataset.annotations { annotationsByImage[a.imageId, default: []].append(a) }
        let augmentation = try augment ? AugmentationSamples(self, dataset: dataset) : nil

        let staged = try StagedOutput(destination: URL(fileURLWithPath: output))
        var usedNames = Set<String>()
        for entry in selected {
            guard let fileName = entry.fileName, !fileName.isEmpty else {
                throw COCOError(.missingField, file: annotations, "image \(entry.id) has no 'file_name'")
            }
            let url = URL(fileURLWithPath: images).appendingPathComponent(fileName)
            let image = try Image(contentsOf: url)
            let boxes = DatasetPictures.boxes(annotationsByImage[entry.id] ?? [], names: names)
            var stem = URL(fileURLWithPath: fileName).deletingPathExtension().lastPathComponent
            if usedNames.contains(stem) { stem += "-\(entry.id)" }
            usedNames.insert(stem)
            let picture: Image
            if let augmentation {
                picture = try augmentation.sheet(image: image, boxes: boxes, entry: entry, names: names)
                stem += ".augmented"
            } else {
                picture = try DatasetPictures.annotated(image, boxes: boxes)
            }
            try staged.write(try picture.encoded(.png), to: stem + ".png")
        }
        return try staged.commit().count
    }
}

/// The training augmentation of a config applied as `detr train` applies it.
struct AugmentationSamples {
    let loader: DataLoader
    let training: COCODetectionDataset
    let configName: String
    let variants: Int
    let seed: UInt64

    init(_ command: ShowDataset, dataset: COCODataset) throws {
        let config = try ModelConfig.load(presetOrPath: command.config!)
        training = try COCODetectionDataset(
            imagesDirectory: URL(fileURLWithPath: command.images), coco: dataset, annotationName: command.annotations)
        // Sample i of epoch e draws from the stream (seed, e, i), whatever the batch size and workers.
        loader = try DataLoader(
            source: training, transform: .train(config.recipe.trainAugmentation), batchSize: 1, shuffle: false,
            seed: command.seed, workers: 0)
        configName = command.config!
        variants = command.variants
        seed = command.seed
    }

    /// "1 box", "3 boxes".
    static func count(_ boxes: Int) -> String { boxes == 1 ? "1 box" : "\(boxes) boxes" }

    func sheet(image: Image, boxes: [LabeledBox], entry: COCODataset.Image, names: [Int: String]) throws -> Image {
        let objects = boxes.filter { !$0.dashed }.count
        var panels = [
            DatasetPictures.Panel(
                image: image, boxes: boxes, caption: "original \(image.width)×\(image.height), \(Self.count(objects))")
        ]
        if let index = training.entries.firstIndex(where: { $0.imageId == entry.id }) {
            for epoch in 0..<variants {
                let sample = try loader.sample(at: index, epoch: epoch)
                panels.append(
                    DatasetPictures.Panel(
                        image: sample.image, boxes: DatasetPictures.boxes(sample, names: names),
                        caption:
                            "epoch \(epoch): \(sample.image.width)×\(sample.image.height), \(Self.count(sample.boxes.count))"
                    )
                )
            }
        }
        let note =
            panels.count == 1
            ? "not used in training: no usable (non-crowd, non-empty) box"
            : "training augmentation of \(configName), seed \(seed): the samples detr train feeds the model"
        return try DatasetPictures.sheet(
            title: "\(entry.fileName ?? "") (image \(entry.id))", subtitle: note, panels: panels)
    }
}
