import Foundation
import Testing
import Training

/// The JSON-lines training log when a run resumes: records written after the checkpoint by the
/// interrupted run, and a line torn by the kill, are dropped; earlier records stay as written.
struct TrainingLogTests {
    @Test func resumingDropsRecordsAfterTheCheckpointAndTornLines() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let lines = [
            #"{"epoch":0,"loss":3.5,"step":1}"#, #"{"epoch":0,"loss":3.25,"step":2}"#,
            #"{"AP":0.1,"epoch":1,"eval":true}"#,
            #"{"epoch":1,"loss":3,"step":3}"#, #"{"epoch":1,"loss":2.75,"step":4}"#,
            #"{"AP":0.2,"epoch":2,"eval":true}"#,
            #"{"epoch":2,"loss":2.5,"step":5}"#, #"{"epoch":2,"lo"#,  // torn by the kill
        ]
        try Data((lines.joined(separator: "\n")).utf8).write(to: url)

        let log = try TrainingLog(url: url, resumingAt: (step: 2, epoch: 1))
        #expect(log.evaluatedEpochs == [1])
        log.write(["epoch": 1, "step": 3, "loss": 2.875])
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text == lines[0...2].joined(separator: "\n") + "\n" + #"{"epoch":1,"loss":2.875,"step":3}"# + "\n")

        // Opening without resuming appends and keeps everything.
        _ = try TrainingLog(url: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == text)
    }
}
