import Detection
import Foundation
import Records
import Video
import Vision

/// `detr predict` on a video: its kept frames (--every) run through the same batches as images,
/// and the annotated video goes into --save-dir.
extension Predict {
    /// Predicts on the kept frames of `file`, --batch-size frames per forward pass, drawing each
    /// frame's detections into `<name>.annotated.<ext>` in --save-dir (the input's container when
    /// it is writable, else mp4) at the input's frame rate divided by --every.
    ///
    /// A video that cannot be opened, a frame that cannot be decoded or a video that cannot be
    /// written is reported as one line; the frames detected before a decoding error keep their
    /// records, but no annotated video is left.
    /// - Parameter estimate: the kept frames `progress` counted for this video (corrected here).
    /// - Returns: the frames' records and whether everything succeeded.
    func predictVideo(
        _ file: String, predictor: Predictor, options: DetectionOptions, progress: ProgressBar, estimate: Int,
        pictures: PictureNames
    ) -> (records: [FramePredictionRecord], ok: Bool) {
        let reader: VideoReader
        do {
            reader = try VideoReader(contentsOf: URL(fileURLWithPath: file), every: every, applyRotation: !noExif)
        } catch {
            Terminal.error("\(error)")
            progress.total -= estimate
            return ([], false)
        }
        let name = (file as NSString).lastPathComponent
        var records: [FramePredictionRecord] = []
        var writer: VideoWriter?
        var writing = saveDir != nil
        var ok = true
        var reading = true
        while reading {
            var frames: [VideoFrame] = []
            do {
                while frames.count < batchSize, let frame = try reader.next() { frames.append(frame) }
            } catch {
                Terminal.error("\(error)")
                ok = false
            }
            reading = ok && frames.count == batchSize
            guard !frames.isEmpty else { break }
            let started = Date()
            let detections: [[DetectedObject]]
            do {
                detections = try predictor.predict(frames.map(\.image), options: options).detections
            } catch {
                Terminal.error("\(file): frame \(frames[0].index): \(error)")
                ok = false
                break
            }
            for (i, frame) in frames.enumerated() {
                let record = PredictionRecord(
                    file: file, width: frame.image.width, height: frame.image.height, detections: detections[i],
                    names: predictor.names)
                records.append(FramePredictionRecord(record: record, frame: frame.index, time: frame.time))
                if writing, let saveDir {
                    do {
                        if writer == nil {
                            writer = try VideoWriter(
                                url: pictures.videoURL(for: file, in: saveDir),
                                width: frame.image.width, height: frame.image.height,
                                frameRate: reader.info.frameRate.divided(by: every))
                        }
                        try writer?.write(record.drawn(on: frame.image))
                    } catch {
                        Terminal.error("\(error)")
                        writing = false
                        ok = false
                    }
                }
                progress.advance(detail: "\(name) #\(frame.index)")
                if verbose && !quiet {
                    Terminal.note(
                        String(
                            format: "%@ frame %d: %d detections (batch of %d in %.0f ms)", file, frame.index,
                            detections[i].count, frames.count, Date().timeIntervalSince(started) * 1000))
                }
            }
        }
        progress.total += records.count - estimate
        if ok, let writer {
            do { try writer.finish() } catch {
                Terminal.error("\(error)")
                ok = false
            }
        } else {
            writer?.discard()
        }
        return (records, ok)
    }

    /// The frames --every keeps of `file` as its header says (0 when it cannot be read: the error
    /// is reported when the video runs).
    func keptFrameEstimate(_ file: String) -> Int {
        (try? VideoReader(contentsOf: URL(fileURLWithPath: file), every: every, applyRotation: false))?
            .keptFrameEstimate ?? 0
    }
}
