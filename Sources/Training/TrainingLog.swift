import COCO
import Foundation
import Torch

/// Appends one JSON object per line to `log.jsonl` (flushed per line, so a crash loses at most
/// the line being written).
///
/// Step records carry `"step"` (optimizer steps so far) and evaluation records `"eval": true`
/// with `"epoch"` (epochs completed). When a run resumes from a checkpoint, the records written
/// after that checkpoint by the interrupted run (and a torn last line) are dropped first, so the
/// log reads as if the run had never stopped.
public final class TrainingLog {
    let handle: FileHandle
    public let url: URL
    /// Epochs (completed-epoch counts) that have an evaluation record.
    public var evaluatedEpochs: Set<Int> { Set(evaluations.keys) }
    /// The COCO numbers of each evaluation record, by epoch.
    public private(set) var evaluations: [Int: [String: Double]] = [:]

    /// Opens `url` for appending, creating it if needed.
    /// - Parameter resumingAt: the checkpoint's (step, epoch): records of later steps/epochs and
    ///   lines that are not complete JSON objects are removed (the file is rewritten atomically).
    public init(url: URL, resumingAt checkpoint: (step: Int, epoch: Int)? = nil) throws {
        self.url = url
        if let checkpoint, FileManager.default.fileExists(atPath: url.path) {
            let data = try Data(contentsOf: url)
            var kept = Data()
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
                guard let record = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                    continue
                }
                if record["eval"] as? Bool == true {
                    guard let epoch = record["epoch"] as? Int, epoch <= checkpoint.epoch else { continue }
                    evaluations[epoch] = Self.numbers(record)
                } else if let step = record["step"] as? Int, step > checkpoint.step {
                    continue
                }
                kept.append(contentsOf: line)
                kept.append(UInt8(ascii: "\n"))
            }
            try AtomicFile.write(kept, to: url)
        }
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    public func write(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        handle.write(data + Data("\n".utf8))
        try? handle.synchronize()
        if object["eval"] as? Bool == true, let epoch = object["epoch"] as? Int {
            evaluations[epoch] = Self.numbers(object)
        }
    }

    /// The numeric entries of a record but its bookkeeping (epoch, the eval flag).
    static func numbers(_ record: [String: Any]) -> [String: Double] {
        var values: [String: Double] = [:]
        for (key, value) in record where key != "epoch" && key != "eval" {
            if let n = value as? NSNumber { values[key] = n.doubleValue }
        }
        return values
    }

    /// A step record: `epoch` (0-based), `step` (optimizer steps so far), `lr`, `loss` (weighted
    /// total), `grad_norm` (the gradients' global norm before clipping; absent for a skipped fp16
    /// step) and every unweighted term by its official name.
    public func write(step r: StepReport) {
        var entry: [String: Any] = ["epoch": r.epoch, "step": r.step, "lr": r.lr, "loss": r.loss]
        if let norm = r.gradNorm { entry["grad_norm"] = norm }
        for (name, value) in r.terms { entry[name] = value }
        write(entry)
    }

    /// An evaluation record: `"eval": true`, `epoch` (epochs completed), the 12 COCO numbers
    /// under their summary keys, and `"best"`: the keys (`AP`, `AP50`) in which this evaluation is
    /// the best of the run so far (their `best_*.safetensors` hold this epoch's weights).
    public func write(evaluation summary: COCOSummary, epoch: Int, best: [String] = []) {
        var entry: [String: Any] = ["epoch": epoch, "eval": true]
        for line in summary.lines { entry[line.key] = line.value }
        if !best.isEmpty { entry["best"] = best }
        write(entry)
    }
}
