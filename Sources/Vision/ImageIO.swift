import CImage
import Diagnostics
import Foundation

/// Encoded image formats.
public enum ImageFormat: Sendable {
    case png
    case jpeg(quality: Int)

    /// The format implied by a file extension (`.jpg`/`.jpeg` → JPEG quality 95, otherwise PNG).
    public static func forPath(_ path: String) -> ImageFormat {
        let ext = (path as NSString).pathExtension.lowercased()
        return ext == "jpg" || ext == "jpeg" ? .jpeg(quality: 95) : .png
    }
}

extension Image {
    /// Decodes a JPEG or PNG file. Grayscale, palette, RGBA and CMYK images become RGB.
    /// - Parameter applyExifOrientation: rotate/flip JPEGs as their EXIF orientation says
    ///   (what a viewer shows). Keep false for datasets, whose annotations refer to stored pixels.
    public init(contentsOf url: URL, applyExifOrientation: Bool = false) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw FileError(file: url.path, problem: exists ? "cannot be read" : "no such file")
        }
        try self.init(data: data, name: url.path, applyExifOrientation: applyExifOrientation)
    }

    /// Decodes JPEG or PNG bytes; `name` is used in error messages.
    public init(data: Data, name: String = "<memory>", applyExifOrientation: Bool = false) throws {
        var img = ci_image()
        var err = [CChar](repeating: 0, count: 512)
        let status = data.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return -1 }
            return ci_decode(base, raw.count, &img, &err, err.count)
        }
        guard status == 0, let px = img.pixels else {
            let message =
                status == -1
                ? "is empty" : String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw FileError(file: name, problem: message)
        }
        defer { ci_image_free(&img) }
        let w = Int(img.width), h = Int(img.height)
        let decoded = Image(width: w, height: h, pixels: Array(UnsafeBufferPointer(start: px, count: w * h * 3)))
        self = applyExifOrientation ? decoded.oriented(exif: Int(img.orientation)) : decoded
    }

    /// Encoded bytes in `format`.
    public func encoded(_ format: ImageFormat) throws -> Data {
        var out: UnsafeMutablePointer<UInt8>?
        var len = 0
        var err = [CChar](repeating: 0, count: 512)
        let status: Int32 = pixels.withUnsafeBufferPointer { px in
            switch format {
            case .png:
                return ci_encode_png(px.baseAddress, Int32(width), Int32(height), &out, &len, &err, err.count)
            case .jpeg(let q):
                return ci_encode_jpeg(
                    px.baseAddress, Int32(width), Int32(height), Int32(max(1, min(q, 100))),
                    &out, &len, &err, err.count)
            }
        }
        guard status == 0, let out else {
            throw FileError(
                file: "<encoder>",
                problem: String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { ci_buffer_free(out) }
        return Data(bytes: out, count: len)
    }

    /// Writes the image atomically, PNG or JPEG chosen by the file extension unless given.
    public func write(to url: URL, format: ImageFormat? = nil) throws {
        let data: Data
        do {
            data = try encoded(format ?? .forPath(url.path))
        } catch let e as FileError {
            throw FileError(file: url.path, problem: e.problem)
        }
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw FileError(file: url.path, problem: "cannot be written")
        }
    }
}
