import Vision

/// Frames per second as a fraction (`30000/1001` for NTSC's 29.97).
public struct FrameRate: Sendable, Equatable, CustomStringConvertible {
    public var numerator: Int
    public var denominator: Int

    public init(_ numerator: Int, _ denominator: Int = 1) {
        precondition(numerator > 0 && denominator > 0, "FrameRate: \(numerator)/\(denominator) is not positive")
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Frames per second.
    public var value: Double { Double(numerator) / Double(denominator) }

    /// The rate of every `n`-th frame.
    public func divided(by n: Int) -> FrameRate { FrameRate(numerator, denominator * n) }

    public var description: String { denominator == 1 ? "\(numerator)" : "\(numerator)/\(denominator)" }
}

/// What a video file's header says about its video stream.
public struct VideoInfo: Sendable, Equatable {
    /// Size of the frames a reader delivers (upright when rotation is applied).
    public var width: Int
    public var height: Int
    /// The stream's average frame rate (25 when the file does not say).
    public var frameRate: FrameRate
    /// Frames in the stream as the header gives or implies them (by its duration); nil when
    /// unknown. An estimate: the frames decoded may differ.
    public var frameCount: Int?
    /// Clockwise rotation (0, 90, 180, 270) the reader applies to turn frames upright.
    public var rotation: Int
    /// FFmpeg's name of the decoder (`h264`, `mpeg4`, `vp9`, ...).
    public var codec: String
}

/// One decoded frame.
public struct VideoFrame: Sendable {
    public var image: Image
    /// Index in presentation order, from 0 (frames skipped by the reader's `every` count too).
    public var index: Int
    /// Presentation time in seconds from the start of the stream.
    public var time: Double
}
