import CVideo
import Diagnostics
import Foundation
import Vision

/// Writes RGB images as a video file (FFmpeg encodes them) at a constant frame rate. The file
/// appears at its path only when `finish()` succeeds: until then it is written under a temporary
/// name beside it, removed on any error or when the writer is dropped unfinished.
///
/// The container follows the path's extension, the encoder the container: H.264 (libx264, crf 18)
/// in mp4/mov/mkv, MPEG-4 Part 2 (FFmpeg's `mpeg4`, constant quantiser 2) in avi, VP9 (libvpx) in
/// webm; where FFmpeg was built without the first, the next one the container takes (mpeg4 for
/// mp4/mov/mkv, VP8 for webm). Pixels are stored as yuv420p (BT.601, limited range), so colours
/// come back within a few levels and sharp colour edges blur over two pixels; odd widths and
/// heights are rounded up by repeating the last column or row.
public final class VideoWriter {
    public let url: URL
    /// Size of the video (frames of another size are scaled to it).
    public let width: Int
    public let height: Int
    public let frameRate: FrameRate
    /// The FFmpeg encoder in use (`libx264`, `mpeg4`, `libvpx-vp9`, ...).
    public let encoder: String
    /// Frames written so far.
    public private(set) var frameCount = 0
    private var handle: OpaquePointer?
    private let temporary: URL

    /// Creates the (temporary) file and opens the encoder.
    /// - Parameters:
    ///   - encoder: an FFmpeg encoder name instead of the container's choice.
    ///   - rotation: clockwise rotation (0, 90, 180, 270) players apply, stored in the stream's
    ///     display matrix; frames are stored as given.
    /// - Throws: `FileError` naming `url`: an extension without a video container, no usable
    ///   encoder, a directory that cannot be written.
    public init(
        url: URL, width: Int, height: Int, frameRate: FrameRate, encoder: String? = nil, rotation: Int = 0
    ) throws {
        precondition(width > 0 && height > 0, "VideoWriter: size \(width)x\(height)")
        precondition([0, 90, 180, 270].contains(rotation), "VideoWriter: rotation \(rotation) is not a right angle")
        self.url = url
        self.width = width
        self.height = height
        self.frameRate = frameRate
        temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        var writer: OpaquePointer?
        var err = [CChar](repeating: 0, count: 512)
        var used = [CChar](repeating: 0, count: 64)
        let status = cv_writer_open(
            temporary.path, url.lastPathComponent, encoder, Int32(width), Int32(height), Int32(frameRate.numerator),
            Int32(frameRate.denominator), Int32(rotation), &writer, &used, used.count, &err, err.count)
        guard status == 0, writer != nil else {
            try? FileManager.default.removeItem(at: temporary)
            throw FileError(file: url.path, problem: message(err))
        }
        handle = writer
        self.encoder = message(used)
    }

    deinit { discard() }

    /// Appends a frame, shown at `frameCount / frameRate` seconds.
    /// - Throws: `FileError` naming the file when encoding or writing fails; the writer is then discarded.
    public func write(_ image: Image) throws {
        guard let writer = handle else { throw FileError(file: url.path, problem: "writer is closed") }
        var err = [CChar](repeating: 0, count: 512)
        let status = image.pixels.withUnsafeBufferPointer { px in
            cv_writer_write(writer, px.baseAddress, Int32(image.width), Int32(image.height), &err, err.count)
        }
        guard status == 0 else {
            discard()
            throw FileError(file: url.path, problem: message(err))
        }
        frameCount += 1
    }

    /// Flushes the encoder, completes the container and moves the file to `url`.
    /// - Throws: `FileError` naming the file; nothing is left at `url` or the temporary path then.
    public func finish() throws {
        guard let writer = handle else { throw FileError(file: url.path, problem: "writer is closed") }
        var err = [CChar](repeating: 0, count: 512)
        guard cv_writer_finish(writer, &err, err.count) == 0 else {
            discard()
            throw FileError(file: url.path, problem: message(err))
        }
        cv_writer_free(writer)
        handle = nil
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw FileError(file: url.path, problem: "cannot be written")
        }
    }

    /// Abandons the video: closes the encoder and removes the temporary file. Nothing appears at
    /// `url`; later calls throw.
    public func discard() {
        guard let writer = handle else { return }
        cv_writer_free(writer)
        handle = nil
        try? FileManager.default.removeItem(at: temporary)
    }
}
