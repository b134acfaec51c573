import COCO
import Diagnostics
import Foundation

/// Pascal VOC detection annotations: one XML file per image in `Annotations/` (`filename`,
/// `size/width`, `size/height`, and per object `name`, `difficult`, `bndbox/xmin…ymax`), and
/// optionally a set file `ImageSets/Main/<split>.txt` listing the image ids of a split.
///
/// As a COCO dataset: images numbered 1… in the order of the set file (or of the XML file
/// names), file names as the XML's `filename`; VOC's corners are 1-based pixel indices of the
/// first and last pixel covered, so the COCO box is [xmin − 1, ymin − 1, xmax − xmin + 1,
/// ymax − ymin + 1]; `difficult` objects become crowd annotations (ignored by the evaluation,
/// dropped by training, as VOC's evaluation ignores them). Categories: the 20 VOC classes with
/// ids 1…20 in VOC's order when every name is one of them, else the names found, sorted,
/// numbered 1….
public enum VOCAnnotations {
    public static let vocClasses = [
        "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable", "dog",
        "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ]

    /// Reads the annotations `source` names: an `Annotations` folder (every `.xml` in it) or a
    /// set file `<root>/ImageSets/Main/<split>.txt` (the listed ids, from `<root>/Annotations`).
    /// - Throws: `FileError` naming the XML file (malformed, a missing field, a box outside
    ///   the image) or the set file (an id without an XML file)
    public static func load(_ source: URL) throws -> COCODataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory) else {
            throw FileError(file: source.relativePath, problem: "does not exist")
        }
        let xmlFiles: [URL]
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: source.path)) ?? []
            xmlFiles = names.filter { $0.lowercased().hasSuffix(".xml") }.sorted().map { source.appendingPathComponent($0) }
            guard !xmlFiles.isEmpty else { throw FileError(file: source.relativePath, problem: "holds no .xml file") }
        } else {
            guard let text = try? String(contentsOf: source, encoding: .utf8) else {
                throw FileError(file: source.relativePath, problem: "could not be read as UTF-8 text")
            }
            // <root>/ImageSets/Main/<split>.txt → <root>/Annotations
            let root = source.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let annotations = root.appendingPathComponent("Annotations")
            xmlFiles = text.split(whereSeparator: \.isNewline).compactMap { line in
                line.split(separator: " ").first.map { annotations.appendingPathComponent("\($0).xml") }
            }
            guard !xmlFiles.isEmpty else { throw FileError(file: source.relativePath, problem: "lists no image id") }
        }
        let parsed = try xmlFiles.map(parse(file:))
        let found = Set(parsed.flatMap { $0.objects.map(\.name) })
        let names = found.isSubset(of: Set(vocClasses)) ? vocClasses : found.sorted()
        let ids = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($0.element, $0.offset + 1) })
        var images: [COCODataset.Image] = [], annotations: [COCODataset.Annotation] = []
        for (k, image) in parsed.enumerated() {
            images.append(.init(id: k + 1, width: image.width, height: image.height, fileName: image.fileName))
            for o in image.objects {
                annotations.append(
                    .init(
                        id: annotations.count + 1, imageId: k + 1, categoryId: ids[o.name]!,
                        box: COCOBox(x: o.xmin - 1, y: o.ymin - 1, width: o.xmax - o.xmin + 1, height: o.ymax - o.ymin + 1),
                        isCrowd: o.difficult))
            }
        }
        return try COCODataset(
            images: images, categories: names.enumerated().map { .init(id: $0.offset + 1, name: $0.element) },
            annotations: annotations, name: source.relativePath)
    }

    struct Image: Equatable {
        var fileName: String
        var width, height: Int
        var objects: [Object]
    }

    struct Object: Equatable {
        var name: String
        var difficult: Bool
        var xmin, ymin, xmax, ymax: Double
    }

    static func parse(file url: URL) throws -> Image {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FileError(file: url.relativePath, problem: "could not be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FileError(file: url.relativePath, problem: "is not UTF-8 text")
        }
        return try parse(xml: text, name: url.relativePath, defaultFileName: url.deletingPathExtension().lastPathComponent + ".jpg")
    }

    static func parse(xml text: String, name: String, defaultFileName: String) throws -> Image {
        func fail(_ problem: String) -> FileError { FileError(file: name, problem: problem) }
        let root: XMLElement
        do { root = try XMLElement.parse(text) } catch let e as XMLElement.ParseError {
            throw fail("is not well-formed XML (\(e.reason))")
        }
        guard root.name == "annotation" else { throw fail("is no VOC annotation (root element <\(root.name)>)") }
        func int(_ e: XMLElement?, _ path: String) throws -> Int {
            guard let s = e?.text, let v = Int(s.trimmingCharacters(in: .whitespaces)), v > 0 else {
                throw fail("has no positive <\(path)>")
            }
            return v
        }
        let size = root.child("size")
        let (width, height) = (try int(size?.child("width"), "size/width"), try int(size?.child("height"), "size/height"))
        var objects: [Object] = []
        for (n, o) in root.children(named: "object").enumerated() {
            let label = "object \(n + 1)"
            guard let cls = o.child("name")?.text.trimmingCharacters(in: .whitespacesAndNewlines), !cls.isEmpty else {
                throw fail("\(label) has no <name>")
            }
            guard let box = o.child("bndbox") else { throw fail("\(label) (\(cls)) has no <bndbox>") }
            func coordinate(_ key: String) throws -> Double {
                guard let s = box.child(key)?.text, let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite
                else { throw fail("\(label) (\(cls)) has no number in <bndbox><\(key)>") }
                return v
            }
            let (x0, y0, x1, y1) = (try coordinate("xmin"), try coordinate("ymin"), try coordinate("xmax"), try coordinate("ymax"))
            guard x0 >= 1, y0 >= 1, x1 >= x0, y1 >= y0, x1 <= Double(width), y1 <= Double(height) else {
                throw fail("\(label) (\(cls)): box (\(x0), \(y0))–(\(x1), \(y1)) is not inside the \(width)x\(height) image (1-based corners)")
            }
            let difficult = o.child("difficult")?.text.trimmingCharacters(in: .whitespaces) == "1"
            objects.append(Object(name: cls, difficult: difficult, xmin: x0, ymin: y0, xmax: x1, ymax: y1))
        }
        let fileName = root.child("filename")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return Image(fileName: fileName.flatMap { $0.isEmpty ? nil : $0 } ?? defaultFileName, width: width, height: height, objects: objects)
    }
}

/// The element tree of a small XML document: elements, their text and children (attributes,
/// comments, processing instructions and doctypes are skipped; the five predefined entities and
/// numeric character references are decoded).
struct XMLElement {
    var name: String
    var text = ""
    var children: [XMLElement] = []

    struct ParseError: Error { var reason: String }

    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    func children(named name: String) -> [XMLElement] { children.filter { $0.name == name } }

    static func parse(_ source: String) throws -> XMLElement {
        let s = Array(source.unicodeScalars)
        var i = 0
        var stack: [XMLElement] = []
        var root: XMLElement?
        func fail(_ reason: String) -> ParseError { ParseError(reason: reason) }
        func skip(past end: String) throws {
            let e = Array(end.unicodeScalars)
            while i + e.count <= s.count {
                if Array(s[i..<(i + e.count)]) == e { i += e.count; return }
                i += 1
            }
            throw fail("unterminated markup, '\(end)' missing")
        }
        while i < s.count {
            if s[i] != "<" {
                var text = ""
                while i < s.count && s[i] != "<" { text.unicodeScalars.append(s[i]); i += 1 }
                if !stack.isEmpty { stack[stack.count - 1].text += try decode(text) }
                else if !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw fail("text outside the root element") }
                continue
            }
            let rest = String(String.UnicodeScalarView(s[i..<min(s.count, i + 9)]))
            if rest.hasPrefix("<?") { try skip(past: "?>"); continue }
            if rest.hasPrefix("<!--") { try skip(past: "-->"); continue }
            if rest.hasPrefix("<![CDATA[") {
                i += 9
                let start = i
                try skip(past: "]]>")
                if !stack.isEmpty { stack[stack.count - 1].text += String(String.UnicodeScalarView(s[start..<(i - 3)])) }
                continue
            }
            if rest.hasPrefix("<!") { try skip(past: ">"); continue }
            // a tag
            i += 1
            let closing = i < s.count && s[i] == "/"
            if closing { i += 1 }
            var name = ""
            while i < s.count, !" \t\r\n/>".unicodeScalars.contains(s[i]) { name.unicodeScalars.append(s[i]); i += 1 }
            guard !name.isEmpty else { throw fail("a tag without a name") }
            var selfClosing = false
            var quote: Unicode.Scalar? = nil
            while i < s.count {
                let c = s[i]
                if let q = quote { if c == q { quote = nil } }
                else if c == "\"" || c == "'" { quote = c }
                else if c == ">" { break }
                else if c == "/" { selfClosing = true }
                else if !" \t\r\n".unicodeScalars.contains(c) { selfClosing = false }
                i += 1
            }
            guard i < s.count else { throw fail("tag <\(name)> is not closed") }
            i += 1
            if closing {
                guard let open = stack.popLast(), open.name == name else { throw fail("</\(name)> closes no open <\(name)>") }
                if stack.isEmpty {
                    guard root == nil else { throw fail("more than one root element") }
                    root = open
                } else {
                    stack[stack.count - 1].children.append(open)
                }
            } else if selfClosing {
                let e = XMLElement(name: name)
                if stack.isEmpty { guard root == nil else { throw fail("more than one root element") }; root = e }
                else { stack[stack.count - 1].children.append(e) }
            } else {
                stack.append(XMLElement(name: name))
            }
        }
        guard stack.isEmpty else { throw fail("<\(stack.last!.name)> is not closed") }
        guard let root else { throw fail("no element") }
        return root
    }

    static func decode(_ text: String) throws -> String {
        guard text.contains("&") else { return text }
        var out = "", i = text.startIndex
        while i < text.endIndex {
            if text[i] == "&", let semi = text[i...].firstIndex(of: ";") {
                let entity = String(text[text.index(after: i)..<semi])
                let named = ["lt": "<", "gt": ">", "amp": "&", "quot": "\"", "apos": "'"]
                if let v = named[entity] {
                    out += v
                } else if entity.hasPrefix("#"), let code = entity.hasPrefix("#x")
                    ? UInt32(entity.dropFirst(2), radix: 16) : UInt32(entity.dropFirst()),
                    let scalar = Unicode.Scalar(code)
                {
                    out.unicodeScalars.append(scalar)
                } else {
                    throw ParseError(reason: "unknown entity &\(entity);")
                }
                i = text.index(after: semi)
            } else {
                out.append(text[i])
                i = text.index(after: i)
            }
        }
        return out
    }
}
