import COCO
import Datasets
import Foundation
import Testing
import Vision

/// Indexing of COCO-format training data: crowd / degenerate / empty filtering, class-count
/// validation and the errors a user can cause.
@Suite struct DatasetTests {
    static let images = [
        (id: 1, width: 40, height: 30), (id: 2, width: 40, height: 30), (id: 3, width: 30, height: 40),
        (id: 4, width: 40, height: 30), (id: 5, width: 40, height: 30),
    ]
    static let annotations: [(image: Int, category: Int, bbox: [Double], crowd: Int)] = [
        (1, 1, [2, 3, 10, 5], 0),
        (1, 2, [0, 0, 20, 20], 1),  // crowd
        (2, 3, [5, 5, 0, 8], 0),  // zero width
        (3, 3, [20, 30, 20, 20], 0),  // runs past the image: clamped to (20, 30, 30, 40)
        (3, 1, [35, 10, 5, 5], 0),  // entirely right of the image: empty after clamping
        (5, 2, [1, 1, 5, 5], 1),  // image 5 has only a crowd box; image 4 has none
    ]

    static func make(skipEmpty: Bool = true) throws -> (COCODetectionDataset, URL) {
        let dir = try DataFixtures.temporaryDirectory()
        let json = DataFixtures.cocoJSON(images: images, annotations: annotations)
        let url = try DataFixtures.writeDataset(in: dir, json: json, images: images)
        return (
            try COCODetectionDataset(
                imagesDirectory: dir, annotationFile: url, skipImagesWithoutAnnotations: skipEmpty), dir
        )
    }

    @Test func filtersCrowdDegenerateAndEmptyImages() throws {
        let (data, dir) = try Self.make()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(data.entries.map(\.imageId) == [1, 3])
        #expect(data.report.imagesInFile == 5 && data.report.imagesWithoutAnnotations == 3)
        #expect(data.report.crowdAnnotations == 2 && data.report.degenerateBoxes == 2)
        #expect(data.entries[0].boxes == [PixelBox(x0: 2, y0: 3, x1: 12, y1: 8)] && data.entries[0].labels == [1])
        #expect(data.entries[1].boxes == [PixelBox(x0: 20, y0: 30, x1: 30, y1: 40)] && data.entries[1].labels == [3])
        #expect(data.aspectRatio(at: 0) == 40.0 / 30 && data.aspectRatio(at: 1) == 30.0 / 40)

        let s = try data.sample(at: 1)
        #expect(s.imageId == 3 && s.image.width == 30 && s.image.height == 40)
        #expect(s.boxes == data.entries[1].boxes)
    }

    @Test func keepsEmptyImagesWhenAsked() throws {
        let (data, dir) = try Self.make(skipEmpty: false)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(data.entries.map(\.imageId) == [1, 2, 3, 4, 5])
        #expect(data.report.imagesWithoutAnnotations == 0)
        #expect(try data.sample(at: 3).boxes.isEmpty)
    }

    @Test func numClassesMustExceedTheLargestCategoryId() throws {
        let (data, dir) = try Self.make()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(data.maxCategoryId == 3 && data.classNames == [nil, "c1", "c2", "c3"])
        try data.validate(numClasses: 4)
        do {
            try data.validate(numClasses: 3)
            Issue.record("num_classes 3 accepted for category id 3")
        } catch let e as TrainingDataError {
            #expect(e.kind == .invalidClassCount)
            #expect(e.description.contains("annotations.json") && e.description.contains("at least 4"))
        }
    }

    @Test func corruptImageNamesTheFile() throws {
        let (data, dir) = try Self.make()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("not a png".utf8).write(to: dir.appendingPathComponent("3.png"))
        do {
            _ = try data.sample(at: 1)
            Issue.record("corrupt image decoded")
        } catch let e as TrainingDataError {
            #expect(e.kind == .unreadableImage && e.file?.hasSuffix("3.png") == true)
            #expect(e.description.contains("3.png") && e.description.contains("image 3"))
        }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("1.png"))
        #expect(throws: TrainingDataError.self) { try data.sample(at: 0) }
    }

    @Test func malformedAnnotationFilesAreCOCOErrors() throws {
        let dir = try DataFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let truncated = dir.appendingPathComponent("truncated.json")
        try Data("{\"images\": [{\"id\": 1, ".utf8).write(to: truncated)
        #expect(throws: COCOError.self) { try COCODetectionDataset(imagesDirectory: dir, annotationFile: truncated) }

        let dangling = dir.appendingPathComponent("dangling.json")
        try Data(DataFixtures.cocoJSON(images: [(1, 10, 10)], annotations: [(9, 1, [0, 0, 2, 2], 0)]).utf8).write(
            to: dangling)
        do {
            _ = try COCODetectionDataset(imagesDirectory: dir, annotationFile: dangling)
            Issue.record("dangling image_id accepted")
        } catch let e as COCOError {
            #expect(e.kind == .unknownReference && e.description.contains("dangling.json"))
        }

        let noName = dir.appendingPathComponent("noname.json")
        try Data("{\"images\": [{\"id\": 1}], \"annotations\": [], \"categories\": []}".utf8).write(to: noName)
        do {
            _ = try COCODetectionDataset(imagesDirectory: dir, annotationFile: noName)
            Issue.record("image without file_name accepted")
        } catch let e as TrainingDataError {
            #expect(e.kind == .missingFileName && e.description.contains("image 1"))
        }

        let empty = dir.appendingPathComponent("empty.json")
        try Data(DataFixtures.cocoJSON(images: [(1, 10, 10)], annotations: []).utf8).write(to: empty)
        #expect(
            throws: TrainingDataError(
                .empty, file: empty.relativePath, "has no image with a usable (non-crowd, non-empty) box")
        ) {
            try COCODetectionDataset(imagesDirectory: dir, annotationFile: empty)
        }
    }
}
