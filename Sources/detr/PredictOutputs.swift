import Diagnostics
import Foundation
import Serving
import Video
import Vision

/// The limits of `detr predict` on its inputs.
enum PredictLimits {
    /// The default of --max-megapixels, the same as `detr serve`'s.
    static let defaultPixelLimit = ServerConfiguration().pixelLimit

    /// Reads an image after checking its size from the header: an image above `pixelLimit`
    /// pixels is refused before its pixels are decoded (a small file can hold a huge image).
    static func readImage(_ file: String, pixelLimit: Int, exif: Bool) throws -> Image {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw FileError(
                file: file, problem: FileManager.default.fileExists(atPath: file) ? "cannot be read" : "no such file")
        }
        let header = try ImageHeader(data: data, name: file)
        guard header.pixelCount <= pixelLimit else {
            throw FileError(
                file: file,
                problem: """
                    \(header.width)x\(header.height) is \(header.pixelCount) pixels, more than the limit of \
                    \(pixelLimit) (--max-megapixels \(String(format: "%g", Double(pixelLimit) / 1e6)))
                    """)
        }
        return try Image(data: data, name: file, applyExifOrientation: exif)
    }
}

/// Where --save-dir puts each input's pictures: `NAME` in the directory itself while every input
/// has its own file name; when two inputs share one (`a/x.png`, `b/x.png`), every picture goes to
/// the input's path below the inputs' common directory (`DIR/a/x.png`, `DIR/b/x.png`), so none
/// overwrites another.
struct PictureNames {
    let mirrorsPaths: Bool
    /// The deepest directory that holds every input (absolute), when paths are mirrored.
    let commonDirectory: String

    init(_ files: [String]) {
        let absolute = files.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let names = files.map { ($0 as NSString).lastPathComponent }
        mirrorsPaths = Set(names).count < Set(absolute).count
        var common = absolute.first.map { ($0 as NSString).deletingLastPathComponent } ?? ""
        for path in absolute {
            while !common.isEmpty && common != "/" && !path.hasPrefix(common + "/") {
                common = (common as NSString).deletingLastPathComponent
            }
        }
        commonDirectory = common == "/" ? "" : common
    }

    /// The path of `file` below --save-dir (its name, or its path below the common directory).
    func relativePath(_ file: String) -> String {
        guard mirrorsPaths else { return (file as NSString).lastPathComponent }
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        return String(path.dropFirst(commonDirectory.count).drop { $0 == "/" })
    }

    /// The picture of `file` in `dir`: its relative path, or with `suffix` and `ext` the stem's
    /// `STEM.SUFFIX.EXT` beside it.
    func url(for file: String, in dir: String, suffix: String? = nil, ext: String? = nil) -> URL {
        let relative = relativePath(file)
        guard let suffix, let ext else { return URL(fileURLWithPath: dir).appendingPathComponent(relative) }
        let stem = (relative as NSString).deletingPathExtension
        return URL(fileURLWithPath: dir).appendingPathComponent("\(stem).\(suffix).\(ext)")
    }

    /// The annotated video of `file` in `dir`.
    func videoURL(for file: String, in dir: String) -> URL {
        let relative = relativePath(file)
        let sub = (relative as NSString).deletingLastPathComponent
        let folder = sub.isEmpty ? dir : (dir as NSString).appendingPathComponent(sub)
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return VideoFile.derivedPath(for: file, suffix: "annotated", in: folder)
    }
}

/// Checks of output locations, made before the work whose results they receive.
enum OutputLocation {
    /// A file `path` can be written: an existing file that is writable, or a new one in an
    /// existing, writable directory.
    static func checkWritableFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw FileError(file: path, problem: "is a directory") }
            guard access(path, W_OK) == 0 else { throw FileError(file: path, problem: "is not writable") }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        let dir = parent.isEmpty ? "." : parent
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) else {
            throw FileError(file: path, problem: "cannot be written: no such directory \(dir)")
        }
        guard isDirectory.boolValue else {
            throw FileError(file: path, problem: "cannot be written: \(dir) is not a directory")
        }
        guard access(dir, W_OK) == 0 else {
            throw FileError(file: path, problem: "cannot be written: the directory \(dir) is not writable")
        }
    }

    /// Creates directory `path` (and its parents) and checks that it is writable.
    static func prepareDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw FileError(file: path, problem: "exists and is not a directory") }
        } else {
            // The deepest existing ancestor says why a directory cannot be made.
            var ancestor = (path as NSString).deletingLastPathComponent
            while !ancestor.isEmpty && !FileManager.default.fileExists(atPath: ancestor) {
                ancestor = (ancestor as NSString).deletingLastPathComponent
            }
            if ancestor.isEmpty { ancestor = "." }
            guard FileManager.default.fileExists(atPath: ancestor, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw FileError(file: path, problem: "cannot create the directory: \(ancestor) is not a directory")
            }
            guard access(ancestor, W_OK) == 0 else {
                throw FileError(file: path, problem: "cannot create the directory: \(ancestor) is not writable")
            }
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw FileError(file: path, problem: "cannot create the directory (\(Self.reason(error)))")
            }
        }
        guard access(path, W_OK) == 0 else { throw FileError(file: path, problem: "the directory is not writable") }
    }

    /// The system's words for a Foundation file error (its POSIX error when it has one).
    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == CocoaError.fileWriteNoPermission.rawValue {
            return "permission denied"
        }
        return ns.localizedDescription
    }
}

/// Standard output written with every error checked (a full disk, a closed pipe).
enum StandardOutput {
    static func write(_ text: String) throws {
        fflush(nil)  // anything `print` buffered goes first
        let data = Array(text.utf8)
        var offset = 0
        while offset < data.count {
            let n = data[offset...].withUnsafeBytes { Foundation.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw FileError(
                    file: "standard output", problem: "cannot be written (\(String(cString: strerror(errno))))")
            }
            offset += n
        }
    }
}
