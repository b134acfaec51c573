import Records
import Video

/// What `detr predict` runs on, in argument order: batches of consecutive images, and videos
/// (each batched frame by frame on its own).
enum PredictInput: Equatable {
    /// At most --batch-size image files run as one batch.
    case images([String])
    case video(String)

    var isVideo: Bool { videoFile != nil }

    var videoFile: String? {
        guard case .video(let file) = self else { return nil }
        return file
    }

    /// The number of images of a batch of images; nil for a video.
    var imageCount: Int? {
        guard case .images(let files) = self else { return nil }
        return files.count
    }

    /// The files (directories already expanded) as batches of images and videos; a video ends
    /// the batch of the images before it.
    static func plan(_ files: [String], batchSize: Int) -> [PredictInput] {
        var plan: [PredictInput] = []
        var pending: [String] = []
        func flush() {
            for start in stride(from: 0, to: pending.count, by: batchSize) {
                plan.append(.images(Array(pending[start..<min(start + batchSize, pending.count)])))
            }
            pending.removeAll()
        }
        for file in files {
            if VideoFile.isVideo(file) {
                flush()
                plan.append(.video(file))
            } else {
                pending.append(file)
            }
        }
        flush()
        return plan
    }
}

/// One record of `detr predict`'s output.
enum PredictOutput {
    case image(PredictionRecord)
    case frame(FramePredictionRecord)

    /// The record as one JSON line.
    func json() throws -> String {
        switch self {
        case .image(let record): try record.json()
        case .frame(let record): try record.json()
        }
    }

    /// The output's text: `{"images":[...]}` with one image per line, or with `lines` (any input
    /// is a video) JSON Lines: one object per line, images and frames in input order, every line
    /// ended by a newline.
    static func json(_ outputs: [PredictOutput], lines: Bool) throws -> String {
        guard lines else {
            return try PredictionRecord.json(
                outputs.compactMap {
                    guard case .image(let record) = $0 else { return nil }
                    return record
                })
        }
        return try outputs.map { try $0.json() + "\n" }.joined()
    }
}
