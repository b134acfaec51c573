import COCO
import Datasets
import Diagnostics
import Foundation
import Testing
import Vision

/// YOLO and VOC annotations read as COCO datasets: boxes in pixels, ids and names as written,
/// one-line errors naming the file (and line), and the same dataset through `detr convert`'s
/// JSON.
@Suite struct AnnotationFormatTests {
    /// A folder removed when the test ends.
    final class Scratch {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("formats-\(UUID().uuidString)")
        init() { try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(at: url) }

        func write(_ text: String, _ path: String) throws -> URL {
            let file = url.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file)
            return file
        }

        func image(_ path: String, width: Int, height: Int) throws {
            let file = url.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Image(width: width, height: height, fill: (40, 80, 120)).write(to: file)
        }
    }

    /// A YOLO split of three images: two objects (a box and a polygon), none (empty file), and
    /// no label file at all.
    static func yolo(_ s: Scratch, names: String) throws -> (images: URL, yaml: URL) {
        try s.image("images/train/a.png", width: 200, height: 100)
        try s.image("images/train/b.png", width: 50, height: 40)
        try s.image("images/train/c.png", width: 30, height: 30)
        _ = try s.write("0 0.5 0.5 0.2 0.4\n\n2 0.1 0.1 0.3 0.1 0.3 0.5\n", "labels/train/a.txt")
        _ = try s.write("", "labels/train/b.txt")
        let yaml = try s.write("path: .\ntrain: images/train  # the split\nnc: 3\n" + names, "data.yaml")
        return (s.url.appendingPathComponent("images/train"), yaml)
    }

    @Test(arguments: [
        "names: [cat, 'dog', \"bird\"]\n",
        "names:\n  - cat\n  - dog   # a comment\n  - bird\n",
        "names:\n  0: cat\n  1: dog\n  2: bird\n",
        "names: {0: cat, 1: dog, 2: bird}\n",
    ])
    func yoloLabelsBecomePixelBoxes(_ names: String) throws {
        let s = Scratch()
        let (images, yaml) = try Self.yolo(s, names: names)
        #expect(DetectionAnnotations.format(of: yaml) == .yolo)
        let d = try DetectionAnnotations.load(yaml, images: images)
        #expect(d.categories.map(\.id) == [0, 1, 2])
        #expect(d.categories.map(\.name) == ["cat", "dog", "bird"])
        #expect(d.images.map(\.fileName) == ["a.png", "b.png", "c.png"])
        #expect(d.images.map(\.width) == [200, 50, 30])
        #expect(d.images.map(\.height) == [100, 40, 30])
        #expect(d.annotations.count == 2)
        let box = d.annotations[0].box, polygon = d.annotations[1].box
        #expect(d.annotations.map(\.categoryId) == [0, 2])
        // cx 0.5 cy 0.5 w 0.2 h 0.4 of 200x100: x 80, y 30, 40 x 40
        #expect(abs(box.x - 80) < 1e-9 && abs(box.y - 30) < 1e-9 && abs(box.width - 40) < 1e-9 && abs(box.height - 40) < 1e-9)
        // polygon (0.1, 0.1), (0.3, 0.1), (0.3, 0.5): x 20…60, y 10…50
        #expect(abs(polygon.x - 20) < 1e-9 && abs(polygon.y - 10) < 1e-9)
        #expect(abs(polygon.width - 40) < 1e-9 && abs(polygon.height - 40) < 1e-9)
        // The training dataset reads it the same way.
        let training = try COCODetectionDataset(imagesDirectory: images, annotationFile: yaml)
        #expect(training.entries.count == 1)  // images without objects are skipped for training
    }

    @Test(arguments: [
        ("0 0.5 0.5 0.2\n", "a.txt:1", "found 3 numbers"),
        ("0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n", "a.txt:2", "class 7 is not one of the 3 classes"),
        ("x 0.5 0.5 0.2 0.2\n", "a.txt:1", "not an integer"),
        ("1 0.5 0.5 nan 0.2\n", "a.txt:1", "not a number"),
        ("1 0.95 0.5 0.2 0.2\n", "a.txt:1", "outside the image"),
        ("1 0.5 0.5 0 0.2\n", "a.txt:1", "no area"),
    ])
    func badYOLOLinesNameFileAndLine(_ labels: String, _ place: String, _ problem: String) throws {
        let s = Scratch()
        let (images, yaml) = try Self.yolo(s, names: "names: [cat, dog, bird]\n")
        _ = try s.write(labels, "labels/train/a.txt")
        let error = try #require(throws: FileError.self) { try DetectionAnnotations.load(yaml, images: images) }
        #expect(error.file.hasSuffix(place), "\(error)")
        #expect(error.problem.contains(problem), "\(error)")
    }

    @Test func badDataYAMLIsNamed() throws {
        let s = Scratch()
        for (text, problem) in [
            ("nc: 2\n", "has no 'names:'"), ("names:\n  0: a\n  2: b\n", "indices must be 0…1"),
            ("names: cat\n", "must be a list or a mapping"),
        ] {
            let (images, yaml) = try Self.yolo(s, names: "")
            try Data(text.utf8).write(to: yaml)
            let error = try #require(throws: FileError.self) { try DetectionAnnotations.load(yaml, images: images) }
            #expect(error.problem.contains(problem), "\(error)")
        }
        let (_, yaml) = try Self.yolo(s, names: "names: [a]\n")
        #expect(throws: FileError.self) { try DetectionAnnotations.load(yaml, images: nil) }
    }

    /// Random label lines: a clean error or objects inside the image, never a trap.
    @Test func fuzzedYOLOLinesNeverTrap() throws {
        var rng = SystemRandomNumberGenerator()
        let tokens = ["0", "1", "2", "9", "-1", "0.5", "1.2", "-0.1", "nan", "inf", "1e-3", "x", "", "\t", "0.0", "3.5"]
        let s = Scratch()
        let (images, yaml) = try Self.yolo(s, names: "names: [a, b, c]\n")
        for _ in 0..<300 {
            let lines = (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                (0..<Int.random(in: 0...9, using: &rng)).map { _ in tokens.randomElement(using: &rng)! }.joined(separator: " ")
            }
            _ = try s.write(lines.joined(separator: "\n"), "labels/train/a.txt")
            do {
                let d = try DetectionAnnotations.load(yaml, images: images)
                for a in d.annotations where a.imageId == 1 {
                    #expect(a.box.x >= 0 && a.box.y >= 0 && a.box.x + a.box.width <= 200.0001 && a.box.y + a.box.height <= 100.0001)
                }
            } catch let e as FileError {
                #expect(e.file.contains("a.txt:"), "\(e)")
            }
        }
    }

    static let vocXML = """
        <?xml version="1.0"?>
        <!-- one image -->
        <annotation verified="yes">
          <folder>VOC2012</folder>
          <filename>2008_000001.jpg</filename>
          <size><width>500</width><height>375</height><depth>3</depth></size>
          <object><name>dog</name><difficult>0</difficult>
            <bndbox><xmin>10</xmin><ymin>20</ymin><xmax>109</xmax><ymax>220</ymax></bndbox></object>
          <object><name>person</name><difficult>1</difficult>
            <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>500</xmax><ymax>375</ymax></bndbox></object>
        </annotation>
        """

    @Test func vocAnnotationsBecomeCOCOBoxes() throws {
        let s = Scratch()
        _ = try s.write(Self.vocXML, "VOC/Annotations/2008_000001.xml")
        _ = try s.write(Self.vocXML.replacingOccurrences(of: "2008_000001", with: "2008_000002"), "VOC/Annotations/2008_000002.xml")
        let set = try s.write("2008_000002\n", "VOC/ImageSets/Main/val.txt")
        #expect(DetectionAnnotations.format(of: set) == .voc)
        let all = try DetectionAnnotations.load(s.url.appendingPathComponent("VOC/Annotations"), images: nil)
        #expect(all.images.map(\.fileName) == ["2008_000001.jpg", "2008_000002.jpg"])
        #expect(all.categories.count == 20 && all.category(id: 12)?.name == "dog")
        let dog = all.annotations[0], person = all.annotations[1]
        #expect(dog.categoryId == 12 && !dog.isCrowd)
        #expect(dog.box == COCOBox(x: 9, y: 19, width: 100, height: 201))
        #expect(person.categoryId == 15 && person.isCrowd)  // difficult: ignored as VOC's evaluation does
        #expect(person.box == COCOBox(x: 0, y: 0, width: 500, height: 375))
        let val = try DetectionAnnotations.load(set, images: nil)
        #expect(val.images.map(\.fileName) == ["2008_000002.jpg"])
        // Names outside VOC's 20: the names found, sorted, numbered from 1.
        _ = try s.write(Self.vocXML.replacingOccurrences(of: ">dog<", with: ">zebra<"), "other/a.xml")
        let other = try DetectionAnnotations.load(s.url.appendingPathComponent("other"), images: nil)
        #expect(other.categories.map(\.name) == ["person", "zebra"])
    }

    @Test(arguments: [
        ("<annotation><size><width>5</width></size></annotation>", "size/height"),
        ("<annotation><size><width>5</width><height>5</height></size><object><name>a</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>2</ymax></bndbox></object></annotation>", "is not inside the 5x5 image"),
        ("<annotation><size><width>5</width><height>5</height></size><object><name>a</name></object></annotation>", "has no <bndbox>"),
        ("<annotation><size><width>5</width></annotation>", "not well-formed"),
        ("<photo/>", "root element <photo>"),
        ("<annotation>&bogus;</annotation>", "unknown entity"),
    ])
    func badVOCFilesAreNamed(_ xml: String, _ problem: String) throws {
        let s = Scratch()
        _ = try s.write(xml, "Annotations/x.xml")
        let error = try #require(throws: FileError.self) {
            try DetectionAnnotations.load(s.url.appendingPathComponent("Annotations"), images: nil)
        }
        #expect(error.file.hasSuffix("x.xml"))
        #expect(error.problem.contains(problem), "\(error)")
    }

    @Test func theCOCOFileHoldsTheSameDataset() throws {
        let s = Scratch()
        let (images, yaml) = try Self.yolo(s, names: "names: [cat, dog, bird]\n")
        let d = try DetectionAnnotations.load(yaml, images: images)
        let file = s.url.appendingPathComponent("coco.json")
        try d.jsonData().write(to: file)
        let back = try DetectionAnnotations.load(file, images: nil)
        #expect(back.images == d.images && back.categories == d.categories && back.annotations == d.annotations)
    }
}
