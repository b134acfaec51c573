import CVideo
import Diagnostics
import Foundation
import Vision

/// The frames of a video file (FFmpeg decodes them), in presentation order, as RGB images upright
/// as the stream's rotation says. Not thread-safe: one reader per thread.
///
///     let reader = try VideoReader(contentsOf: url, every: 5)
///     while let frame = try reader.next() { ... }  // frames 0, 5, 10, ...
public final class VideoReader {
    /// The file, as the caller named it (errors name it so).
    public let path: String
    public let info: VideoInfo
    /// Only frames whose index is a multiple of this are converted and returned (all are decoded).
    public let every: Int
    private var handle: OpaquePointer?
    /// Index of the next frame the decoder delivers.
    private var nextIndex = 0

    /// Opens the file and its best video stream.
    /// - Parameters:
    ///   - every: return frames 0, every, 2·every, ...
    ///   - applyRotation: turn frames upright as the stream's display matrix says (what a player shows).
    /// - Throws: `FileError` naming the file: missing, not a video, no video stream, no decoder.
    public init(contentsOf url: URL, every: Int = 1, applyRotation: Bool = true) throws {
        precondition(every >= 1, "VideoReader: every must be at least 1")
        path = url.path
        self.every = every
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FileError(file: path, problem: "no such file")
        }
        guard !isDirectory.boolValue else { throw FileError(file: path, problem: "is a directory, not a video") }
        var reader: OpaquePointer?
        var header = cv_info()
        var err = [CChar](repeating: 0, count: 512)
        guard cv_reader_open(path, applyRotation ? 1 : 0, &reader, &header, &err, err.count) == 0, reader != nil else {
            throw FileError(file: path, problem: message(err))
        }
        handle = reader
        let codec = withUnsafeBytes(of: header.codec) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        info = VideoInfo(
            width: Int(header.width), height: Int(header.height),
            frameRate: FrameRate(Int(header.rate_num), Int(header.rate_den)),
            frameCount: header.frame_count >= 0 ? Int(header.frame_count) : nil, rotation: Int(header.rotation),
            codec: codec)
    }

    deinit { cv_reader_close(handle) }

    /// The number of frames `next()` returns for `frameCount` frames: ⌈frameCount / every⌉.
    public var keptFrameEstimate: Int? { info.frameCount.map { ($0 + every - 1) / every } }

    /// The next kept frame; nil at the end of the video.
    /// - Throws: `FileError` naming the file for data that cannot be read or decoded, or a file that
    ///   ends early; the reader is then at its end.
    public func next() throws -> VideoFrame? {
        guard let reader = handle else { return nil }
        var err = [CChar](repeating: 0, count: 512)
        while true {
            let keep = nextIndex % every == 0
            var frame = cv_frame()
            let status = cv_reader_next(reader, keep ? 1 : 0, &frame, &err, err.count)
            if status <= 0 {
                cv_reader_close(reader)
                handle = nil
                if status < 0 { throw FileError(file: path, problem: message(err)) }
                return nil
            }
            nextIndex += 1
            guard keep, let pixels = frame.pixels else { continue }
            let (w, h) = (Int(frame.width), Int(frame.height))
            let image = Image(width: w, height: h, pixels: Array(UnsafeBufferPointer(start: pixels, count: w * h * 3)))
            return VideoFrame(image: image, index: Int(frame.index), time: frame.time)
        }
    }
}
