import Datasets
import Foundation
import Vision

/// Small on-disk and in-memory datasets for the data-pipeline tests.
enum DataFixtures {
    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("detr-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// An image whose pixel (x, y) is (x, y, x + y) mod 256, so crops and flips are checkable.
    static func ramp(width: Int, height: Int) -> Image {
        var px: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width { px += [UInt8(x % 256), UInt8(y % 256), UInt8((x + y) % 256)] }
        }
        return Image(width: width, height: height, pixels: px)
    }

    /// Writes `annotations.json` (the given text) and images `<id>.png` of the given sizes into `dir`.
    static func writeDataset(in dir: URL, json: String, images: [(id: Int, width: Int, height: Int)]) throws -> URL {
        for i in images {
            try ramp(width: i.width, height: i.height).write(to: dir.appendingPathComponent("\(i.id).png"))
        }
        let url = dir.appendingPathComponent("annotations.json")
        try Data(json.utf8).write(to: url)
        return url
    }

    /// A COCO annotation JSON for images `(id, w, h)` and annotations `(imageId, category, [x, y, w, h], crowd)`.
    static func cocoJSON(
        images: [(id: Int, width: Int, height: Int)],
        annotations: [(image: Int, category: Int, bbox: [Double], crowd: Int)],
        categories: [Int] = [1, 2, 3]
    ) -> String {
        let imgs = images.map {
            "{\"id\": \($0.id), \"file_name\": \"\($0.id).png\", \"width\": \($0.width), \"height\": \($0.height)}"
        }
        let anns = annotations.enumerated().map { k, a in
            "{\"id\": \(k + 1), \"image_id\": \(a.image), \"category_id\": \(a.category), \"bbox\": \(a.bbox), "
                + "\"area\": \(a.bbox[2] * a.bbox[3]), \"iscrowd\": \(a.crowd)}"
        }
        let cats = categories.map { "{\"id\": \($0), \"name\": \"c\($0)\"}" }
        return "{\"images\": [\(imgs.joined(separator: ","))], \"annotations\": [\(anns.joined(separator: ","))], "
            + "\"categories\": [\(cats.joined(separator: ","))]}"
    }

    /// `count` in-memory samples of varied sizes (portrait and landscape) with 1-3 boxes each.
    static func memorySamples(_ count: Int) -> InMemorySampleSource {
        var rng = SeededRandom(seed: 7)
        let samples = (0..<count).map { i -> TrainingSample in
            let w = rng.int(in: 24...48), h = rng.int(in: 24...48)
            let boxes = (0..<rng.int(in: 1...3)).map { _ -> PixelBox in
                let x0 = Float(rng.int(in: 0...(w / 2))), y0 = Float(rng.int(in: 0...(h / 2)))
                return PixelBox(
                    x0: x0, y0: y0, x1: x0 + Float(rng.int(in: 4...(w / 2))), y1: y0 + Float(rng.int(in: 4...(h / 2))))
            }
            return TrainingSample(
                imageId: 100 + i, image: ramp(width: w, height: h), boxes: boxes,
                labels: boxes.map { _ in rng.int(in: 1...3) })
        }
        return InMemorySampleSource(samples)
    }
}
