import Diagnostics
import Foundation

/// A training log (`log.jsonl`, as `TrainingLog` writes it) read back: its step records and
/// its evaluation records, in file order.
///
/// A line is a step record when it has an integer `"step"`, an evaluation record when it has
/// `"eval": true` and an integer `"epoch"`; other JSON objects are skipped. A last line
/// without its line break (a log being written at this moment) is skipped when it is not
/// complete JSON; any other line that is not a JSON object is an error naming the line.
public struct TrainingLogRecords: Sendable {
    /// One optimizer step: `lr`, `loss` (the weighted total) and every logged term by name.
    public struct Step: Sendable, Equatable {
        /// The epoch the step belongs to (0-based).
        public var epoch: Int
        /// Optimizer steps so far, this one included.
        public var step: Int
        public var values: [String: Double]

        public init(epoch: Int, step: Int, values: [String: Double]) {
            self.epoch = epoch
            self.step = step
            self.values = values
        }
    }

    /// One evaluation: the COCO numbers by their summary keys (`AP`, `AP50`, ... `ARl`).
    public struct Evaluation: Sendable, Equatable {
        /// Epochs completed when it ran.
        public var epoch: Int
        public var values: [String: Double]
        /// The keys in which this evaluation was the best of the run so far (`"best"`).
        public var best: [String] = []

        public init(epoch: Int, values: [String: Double]) {
            self.epoch = epoch
            self.values = values
        }
    }

    public var steps: [Step]
    public var evaluations: [Evaluation]

    /// Reads `url`; errors name it as `displayName` (default: the path as given).
    /// - Throws: `FileError` for an unreadable file, a line that is not a JSON object, or a
    ///   file without any step or evaluation record.
    public init(contentsOf url: URL, displayName: String? = nil) throws {
        let name = displayName ?? url.relativePath
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw FileError(file: name, problem: exists ? "cannot be read" : "no such file")
        }
        try self.init(data: data, name: name)
    }

    /// Parses the text of a log; `name` labels errors.
    public init(data: Data, name: String) throws {
        steps = []
        evaluations = []
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let complete = data.last == UInt8(ascii: "\n")
        for (index, line) in lines.enumerated() {
            let isLast = index == lines.count - 1
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
                continue
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                if isLast && !complete { break }  // torn: still being written
                throw FileError(
                    file: name,
                    problem: "line \(index + 1) is not a JSON object (expected a training log written by detr train)")
            }
            var values: [String: Double] = [:]
            // Every number but the record's bookkeeping (epoch, step, the eval flag).
            for (key, value) in object where key != "epoch" && key != "step" && key != "eval" {
                if let number = value as? NSNumber { values[key] = number.doubleValue }
            }
            if object["eval"] as? Bool == true, let epoch = object["epoch"] as? Int {
                var evaluation = Evaluation(epoch: epoch, values: values)
                evaluation.best = object["best"] as? [String] ?? []
                evaluations.append(evaluation)
            } else if let step = object["step"] as? Int {
                steps.append(Step(epoch: object["epoch"] as? Int ?? 0, step: step, values: values))
            }
        }
        guard !steps.isEmpty || !evaluations.isEmpty else {
            throw FileError(
                file: name,
                problem: "holds no training records (lines with \"step\" or \"eval\": true, as detr train writes)")
        }
    }

    /// The names of the logged step values other than `lr`: `loss` first, then the `loss_*`
    /// terms, then the other values (`class_error`, ...), each group in alphabetical order.
    public var lossNames: [String] {
        var names = Set<String>()
        for s in steps { names.formUnion(s.values.keys) }
        names.remove("lr")
        let sorted = names.sorted()
        return sorted.filter { $0 == "loss" } + sorted.filter { $0.hasPrefix("loss_") }
            + sorted.filter { $0 != "loss" && !$0.hasPrefix("loss_") }
    }
}
