import Foundation

/// One video frame's detections as `detr predict` writes them: the frame's `PredictionRecord`
/// (`file` is the video) with the frame's index in the video and its time.
public struct FramePredictionRecord: Sendable {
    public var record: PredictionRecord
    /// Index of the frame in the video (presentation order, from 0).
    public var frame: Int
    /// Presentation time of the frame in seconds from the start of the video.
    public var time: Double

    public init(record: PredictionRecord, frame: Int, time: Double) {
        self.record = record
        self.frame = frame
        self.time = time
    }

    /// One frame of the predictions file: an image entry's fields plus `frame` and `time`.
    public struct Entry: Encodable, Sendable {
        public var file: String
        public var width: Int
        public var height: Int
        public var detections: [PredictionRecord.DetectionEntry]
        public var frame: Int
        public var time: FiniteOrNull<Double>
    }

    /// The record as it is encoded.
    public var entry: Entry {
        let image = record.entry
        return Entry(
            file: image.file, width: image.width, height: image.height, detections: image.detections, frame: frame,
            time: FiniteOrNull(time))
    }

    /// The record as one JSON object (keys sorted: detections, file, frame, height, time, width).
    public func json() throws -> String { try JSONOutput.encode(entry) }
}
