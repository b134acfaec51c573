import Diagnostics
import Foundation
import Testing
import Training

/// Reading a training log back (what `detr plot` draws).
struct TrainingLogRecordsTests {
    @Test func readsWhatTheLogWrites() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let log = try TrainingLog(url: url)
        for step in 1...3 {
            log.write([
                "epoch": 0, "step": step, "lr": 1e-4, "loss": 4 - Double(step), "loss_ce": 0.5 * Double(step),
                "loss_bbox_0": 0.25, "class_error": 50,
            ])
        }
        log.write(["epoch": 1, "eval": true, "AP": 0.125, "AP50": 0.5, "APs": -1])
        let records = try TrainingLogRecords(contentsOf: url)
        #expect(records.steps.map(\.step) == [1, 2, 3])
        #expect(records.steps.map(\.epoch) == [0, 0, 0])
        #expect(
            records.steps[1].values == ["lr": 1e-4, "loss": 2, "loss_ce": 1, "loss_bbox_0": 0.25, "class_error": 50])
        #expect(records.evaluations == [.init(epoch: 1, values: ["AP": 0.125, "AP50": 0.5, "APs": -1])])
        #expect(records.lossNames == ["loss", "loss_bbox_0", "loss_ce", "class_error"])
    }

    @Test func tornLastLineIsSkippedOtherBadLinesAreErrors() throws {
        let torn = try TrainingLogRecords(
            data: Data("{\"step\":1,\"loss\":2}\n\n{\"step\":2,\"loss\":1}\n{\"step\":3,\"lo".utf8), name: "a.jsonl")
        #expect(torn.steps.map(\.step) == [1, 2])
        #expect(
            throws: FileError(
                file: "b.jsonl", problem: "line 2 is not a JSON object (expected a training log written by detr train)")
        ) {
            try TrainingLogRecords(data: Data("{\"step\":1,\"loss\":2}\n[1, 2]\n{\"step\":2}\n".utf8), name: "b.jsonl")
        }
        // A complete last line that is not JSON is not a torn write.
        #expect(throws: FileError.self) {
            try TrainingLogRecords(data: Data("{\"step\":1,\"loss\":2}\nnot json\n".utf8), name: "c.jsonl")
        }
        #expect(
            throws: FileError(
                file: "d.jsonl",
                problem: "holds no training records (lines with \"step\" or \"eval\": true, as detr train writes)")
        ) {
            try TrainingLogRecords(data: Data("{\"other\":1}\n".utf8), name: "d.jsonl")
        }
        #expect(throws: FileError(file: "/nonexistent/log.jsonl", problem: "no such file")) {
            try TrainingLogRecords(contentsOf: URL(fileURLWithPath: "/nonexistent/log.jsonl"))
        }
    }
}
