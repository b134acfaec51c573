import Foundation

/// Video files by extension: which inputs are videos, and where a video derived from one is written.
public enum VideoFile {
    /// Extensions of the containers read as video (lowercase).
    public static let extensions: Set<String> = [
        "mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg", "ts", "m2ts", "mts", "wmv", "flv", "ogv", "3gp",
    ]

    /// Containers `VideoWriter` writes (H.264 in mp4/mov/mkv, MPEG-4 Part 2 in avi, VP9 in webm).
    public static let writableExtensions: Set<String> = ["mp4", "mov", "mkv", "avi", "webm"]

    /// True when the path's extension is a video container's.
    public static func isVideo(_ path: String) -> Bool {
        extensions.contains((path as NSString).pathExtension.lowercased())
    }

    /// `<name>.<suffix>.<ext>` in `directory` for the video at `path`: the input's container when
    /// `VideoWriter` writes it, else mp4 (`clip.mkv` → `clip.annotated.mkv`, `clip.ts` → `clip.annotated.mp4`).
    public static func derivedPath(for path: String, suffix: String, in directory: String) -> URL {
        let name = (path as NSString).lastPathComponent
        let ext = (name as NSString).pathExtension.lowercased()
        let stem = (name as NSString).deletingPathExtension
        let outExt = writableExtensions.contains(ext) ? ext : "mp4"
        return URL(fileURLWithPath: directory).appendingPathComponent("\(stem).\(suffix).\(outExt)")
    }
}

/// The text of a NUL-terminated C message buffer.
func message(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
