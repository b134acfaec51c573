import COCO
import Datasets
import Foundation
import Testing
import Vision

/// `detr synth`'s generator: deterministic pictures and a COCO dataset that loads back.
@Suite struct SyntheticShapesTests {
    @Test func picturesAreDeterministicAndVaried() {
        let g = SyntheticShapes(seed: 11)
        #expect(g.picture(index: 3) == g.picture(index: 3))
        #expect(g.picture(index: 3) != g.picture(index: 4))
        #expect(g.picture(index: 3) != SyntheticShapes(seed: 12).picture(index: 3))
        var shapes = Set<SyntheticShapes.Shape>()
        for i in 0..<12 {
            let p = g.picture(index: i)
            #expect((96...160).contains(p.image.width) && (96...160).contains(p.image.height))
            #expect((1...4).contains(p.objects.count))
            for o in p.objects {
                shapes.insert(o.shape)
                let short = Double(min(p.image.width, p.image.height))
                #expect(
                    max(o.width, o.height) >= 0.15 * short * 0.77 && o.area > 0 && o.area <= o.width * o.height + 1e-9)
                #expect(
                    o.x >= 0 && o.y >= 0 && o.x + o.width <= Double(p.image.width)
                        && o.y + o.height <= Double(p.image.height))
            }
        }
        #expect(shapes.count == 3)
    }

    @Test func writtenDatasetLoadsWithBoxesInsideImages() throws {
        let dir = try DataFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let g = SyntheticShapes(seed: 4, sizeRange: 48...64)
        let summary = try g.write(to: dir, images: 7)
        #expect(summary.trainImages == 6 && summary.valImages == 1)
        #expect(SyntheticShapes.validationCount(of: 2) == 1 && SyntheticShapes.validationCount(of: 100) == 20)

        for (split, n, objects) in [("train", 6, summary.trainObjects), ("val", 1, summary.valObjects)] {
            let coco = try COCODataset(contentsOf: dir.appendingPathComponent("annotations/\(split).json"))
            #expect(coco.images.count == n && coco.annotations.count == objects && coco.report.isClean)
            #expect(
                coco.categories.map(\.name) == ["circle", "rectangle", "triangle"] && coco.categoryIds == [1, 2, 3])
            for image in coco.images {
                let decoded = try Image(
                    contentsOf: dir.appendingPathComponent(split).appendingPathComponent(image.fileName!))
                #expect(decoded.width == image.width && decoded.height == image.height)
            }
            for a in coco.annotations {
                let image = try #require(coco.images.first { $0.id == a.imageId })
                #expect(a.box.x >= 0 && a.box.y >= 0 && a.box.width > 0 && a.box.height > 0)
                #expect(a.box.x + a.box.width <= Double(image.width!) + 1e-9)
                #expect(a.box.y + a.box.height <= Double(image.height!) + 1e-9)
                #expect(!a.isCrowd && a.area <= a.box.area * 1.001 + 0.5)  // boxes are rounded to 1/100 px
            }
            let data = try COCODetectionDataset(
                imagesDirectory: dir.appendingPathComponent(split),
                annotationFile: dir.appendingPathComponent("annotations/\(split).json"))
            #expect(data.count == n && data.report.degenerateBoxes == 0)
            try data.validate(numClasses: 4)
        }
        // Same seed, same files.
        let again = try DataFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: again) }
        _ = try g.write(to: again, images: 7)
        for path in ["annotations/train.json", "annotations/val.json", "train/000002.png", "val/000001.png"] {
            #expect(
                try Data(contentsOf: dir.appendingPathComponent(path))
                    == Data(contentsOf: again.appendingPathComponent(path)))
        }
    }

    /// `--classes shape-size`: the same pictures, six categories (shape × small/large by the
    /// square root of the box area against 0.3 of the shorter image side), all of them used.
    @Test func shapeAndSizeLabelsSplitEachShape() throws {
        var g = SyntheticShapes(seed: 11)
        g.labels = .shapeAndSize
        #expect(g.categories.map(\.id) == Array(1...6))
        #expect(g.categories[0].name == "small circle" && g.categories[5].name == "large triangle")
        var seen = Set<Int>()
        for i in 0..<40 {
            let p = g.picture(index: i)
            #expect(p == SyntheticShapes(seed: 11).picture(index: i), "pictures do not depend on the labels")
            for o in p.objects {
                let id = g.category(of: o, width: p.image.width, height: p.image.height)
                let large = (o.width * o.height).squareRoot() >= 0.3 * Double(min(p.image.width, p.image.height))
                #expect(id == 2 * o.shape.rawValue - (large ? 0 : 1))
                seen.insert(id)
            }
        }
        #expect(seen == Set(1...6))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-size-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = try g.write(to: dir, images: 6)
        let data = try COCODataset(contentsOf: summary.trainAnnotations)
        #expect(data.categories.map(\.id) == Array(1...6))
    }
}
