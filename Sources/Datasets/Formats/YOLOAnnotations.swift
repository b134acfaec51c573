import COCO
import Diagnostics
import Foundation
import Vision

/// Ultralytics YOLO detection datasets: a `data.yaml` naming the classes, and for every image
/// `…/images/<split>/<name>.<ext>` a label file `…/labels/<split>/<name>.txt` (the last `images`
/// folder of the path replaced by `labels`) with one object per line, `class cx cy w h`
/// normalised to the image size (a line with more than four numbers after the class is a
/// polygon `x1 y1 x2 y2 …`, whose bounding box is the object's box). An image without a label
/// file, or with an empty one, has no objects.
///
/// As a COCO dataset: images numbered 1… in file-name order with their sizes read from the
/// image headers, category ids the class indices as written (0…), boxes in pixels.
public enum YOLOAnnotations {
    /// The image files a YOLO split holds (PNG and JPEG), sorted by name.
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Reads the class names of a `data.yaml`: `names` as a list (`[a, b]` or `- a` lines) or
    /// a mapping (`0: a` lines, or `{0: a, 1: b}`).
    /// - Throws: `FileError` naming the file (unreadable, no `names`, an index out of order)
    public static func classNames(dataYAML url: URL) throws -> [String] {
        let name = url.relativePath
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw FileError(file: name, problem: "could not be read as UTF-8 text")
        }
        return try classNames(yaml: text, name: name)
    }

    static func classNames(yaml text: String, name: String) throws -> [String] {
        let lines = text.components(separatedBy: .newlines).map(stripComment)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("names:") }) else {
            throw FileError(file: name, problem: "has no 'names:' (the class names)")
        }
        var names: [Int: String] = [:]
        var listed: [String] = []
        let inline = lines[start].dropFirst("names:".count).trimmingCharacters(in: .whitespaces)
        if !inline.isEmpty {
            guard let open = inline.first, open == "[" || open == "{", inline.last == (open == "[" ? "]" : "}") else {
                throw FileError(file: name, problem: "'names:' must be a list or a mapping, not '\(inline)'")
            }
            for item in splitFlow(String(inline.dropFirst().dropLast())) {
                if open == "[" { listed.append(unquote(item)) } else { try add(pair: item) }
            }
        } else {
            for line in lines[(start + 1)...] {
                guard line.first == " " || line.first == "\t" || line.isEmpty else { break }
                let item = line.trimmingCharacters(in: .whitespaces)
                if item.isEmpty { continue }
                if item.hasPrefix("- ") || item == "-" {
                    listed.append(unquote(String(item.dropFirst()).trimmingCharacters(in: .whitespaces)))
                } else {
                    try add(pair: item)
                }
            }
        }
        func add(pair: String) throws {
            let parts = pair.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let index = Int(parts[0]), index >= 0 else {
                throw FileError(file: name, problem: "'names:' entry '\(pair)' is not 'index: name'")
            }
            names[index] = unquote(parts[1])
        }
        if !listed.isEmpty && !names.isEmpty {
            throw FileError(file: name, problem: "'names:' mixes a list and a mapping")
        }
        if !names.isEmpty {
            guard Set(names.keys) == Set(0..<names.count) else {
                throw FileError(file: name, problem: "'names:' indices must be 0…\(names.count - 1), each once")
            }
            listed = (0..<names.count).map { names[$0]! }
        }
        guard !listed.isEmpty else { throw FileError(file: name, problem: "'names:' lists no class") }
        return listed
    }

    /// The label file of an image: the last path component `images` replaced by `labels`, the
    /// extension by `.txt`.
    public static func labelFile(of image: URL) -> URL? {
        var parts = image.deletingPathExtension().pathComponents
        guard let i = parts.lastIndex(of: "images") else { return nil }
        parts[i] = "labels"
        return URL(fileURLWithPath: NSString.path(withComponents: parts) + ".txt")
    }

    /// Reads the YOLO split whose images are in `imagesDirectory` (file names relative to it).
    /// - Throws: `FileError` naming the label file and line of a malformed line, a class outside
    ///   `names`, or a box outside the image; or an image whose header cannot be read
    public static func load(imagesDirectory: URL, dataYAML: URL) throws -> COCODataset {
        let names = try classNames(dataYAML: dataYAML)
        let files = try imageFiles(in: imagesDirectory)
        var images: [COCODataset.Image] = [], annotations: [COCODataset.Annotation] = []
        for (k, relative) in files.enumerated() {
            let url = imagesDirectory.appendingPathComponent(relative)
            let header = try imageHeader(url)
            let id = k + 1
            images.append(.init(id: id, width: header.width, height: header.height, fileName: relative))
            guard let labels = labelFile(of: url), FileManager.default.fileExists(atPath: labels.path) else { continue }
            for object in try parse(labelFile: labels, classes: names.count) {
                let (x0, y0, x1, y1) = (
                    object.x0 * Double(header.width), object.y0 * Double(header.height),
                    object.x1 * Double(header.width), object.y1 * Double(header.height)
                )
                annotations.append(
                    .init(
                        id: annotations.count + 1, imageId: id, categoryId: object.classIndex,
                        box: COCOBox(x0: x0, y0: y0, x1: x1, y1: y1)))
            }
        }
        let categories = names.enumerated().map { COCODataset.Category(id: $0.offset, name: $0.element) }
        return try COCODataset(
            images: images, categories: categories, annotations: annotations, name: imagesDirectory.relativePath)
    }

    /// One object of a label file: its class and normalised corners.
    struct Object: Equatable {
        var classIndex: Int
        var x0, y0, x1, y1: Double
    }

    /// Normalised coordinates may exceed [0, 1] by this much (rounding in exporters).
    static let slack = 1e-3

    static func parse(labelFile url: URL, classes: Int) throws -> [Object] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FileError(file: url.relativePath, problem: "could not be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FileError(file: url.relativePath, problem: "is not UTF-8 text")
        }
        return try parse(labels: text, classes: classes, name: url.relativePath)
    }

    static func parse(labels text: String, classes: Int, name: String) throws -> [Object] {
        var objects: [Object] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            func fail(_ problem: String) -> FileError { FileError(file: "\(name):\(n + 1)", problem: problem) }
            guard let cls = Int(fields[0]) else { throw fail("the class '\(fields[0])' is not an integer") }
            guard (0..<classes).contains(cls) else {
                throw fail("class \(cls) is not one of the \(classes) classes of data.yaml (0…\(classes - 1))")
            }
            let values = fields.dropFirst().map { Double($0) }
            guard values.allSatisfy({ $0 != nil && $0!.isFinite }) else { throw fail("a coordinate is not a number") }
            let v = values.map { $0! }
            var corners: (Double, Double, Double, Double)
            if v.count == 4 {
                guard v[2] > 0, v[3] > 0 else { throw fail("the box has no area (w \(v[2]), h \(v[3]))") }
                corners = (v[0] - v[2] / 2, v[1] - v[3] / 2, v[0] + v[2] / 2, v[1] + v[3] / 2)
            } else if v.count >= 6 && v.count % 2 == 0 {
                let xs = stride(from: 0, to: v.count, by: 2).map { v[$0] }
                let ys = stride(from: 1, to: v.count, by: 2).map { v[$0] }
                corners = (xs.min()!, ys.min()!, xs.max()!, ys.max()!)
            } else {
                throw fail("expected 'class cx cy w h' (or a polygon 'class x1 y1 x2 y2 x3 y3 …'), found \(v.count) numbers")
            }
            guard corners.0 >= -slack, corners.1 >= -slack, corners.2 <= 1 + slack, corners.3 <= 1 + slack else {
                throw fail("the box lies outside the image (normalised coordinates must be within 0…1)")
            }
            // Exporters round; what is left within the slack is clipped to the image.
            corners = (max(0, corners.0), max(0, corners.1), min(1, corners.2), min(1, corners.3))
            objects.append(Object(classIndex: cls, x0: corners.0, y0: corners.1, x1: corners.2, y1: corners.3))
        }
        return objects
    }

    /// PNG and JPEG files below `directory` (recursively), relative paths sorted.
    static func imageFiles(in directory: URL) throws -> [String] {
        guard
            let walker = FileManager.default.enumerator(
                at: directory, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { throw FileError(file: directory.relativePath, problem: "is not a readable folder") }
        let base = directory.standardizedFileURL.path
        var files: [String] = []
        for case let url as URL in walker where imageExtensions.contains(url.pathExtension.lowercased()) {
            let path = url.standardizedFileURL.path
            files.append(path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : url.lastPathComponent)
        }
        guard !files.isEmpty else { throw FileError(file: directory.relativePath, problem: "holds no PNG or JPEG image") }
        return files.sorted()
    }

    static func imageHeader(_ url: URL) throws -> ImageHeader {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw FileError(file: url.relativePath, problem: "could not be read")
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: ImageHeader.maxScan)) ?? Data()
        return try ImageHeader(data: head, name: url.relativePath)
    }

    // MARK: YAML pieces (the subset data.yaml files use for names)

    static func stripComment(_ line: String) -> String {
        var inQuote: Character? = nil
        var out = ""
        for c in line {
            if let q = inQuote {
                if c == q { inQuote = nil }
            } else if c == "'" || c == "\"" {
                inQuote = c
            } else if c == "#" && (out.isEmpty || out.last == " " || out.last == "\t") {
                break
            }
            out.append(c)
        }
        return String(out.reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }

    static func unquote(_ s: String) -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t.count >= 2, let f = t.first, f == "'" || f == "\"", t.last == f { return String(t.dropFirst().dropLast()) }
        return t
    }

    /// Items of a YAML flow sequence or mapping body, split at top-level commas.
    static func splitFlow(_ body: String) -> [String] {
        var items: [String] = [], current = ""
        var inQuote: Character? = nil
        for c in body {
            if let q = inQuote {
                if c == q { inQuote = nil }
            } else if c == "'" || c == "\"" {
                inQuote = c
            } else if c == "," {
                items.append(current)
                current = ""
                continue
            }
            current.append(c)
        }
        items.append(current)
        return items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
