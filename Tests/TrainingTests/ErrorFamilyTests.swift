import COCO
import Datasets
import Detection
import Diagnostics
import Foundation
import Testing
import Torch
import Training
import Vision

/// Every module's error has one shape (`SubjectError`): the thing it concerns and the problem,
/// rendered as "<subject>: <problem>", or the problem alone when nothing is named.
@Suite struct ErrorFamilyTests {
    @Test func everyErrorTypeRendersSubjectAndProblem() {
        let errors: [any SubjectError] = [
            FileError(file: "w.pth", problem: "not a zip"),
            FileError(file: "a.png", problem: "corrupt PNG"),
            COCOError(.missingField, file: "gt.json", "missing field 'images'"),
            TrainingDataError(.empty, file: nil, "no usable image"),
            ConfigError(source: "c.json", problem: "unknown key 'x'"),
            ConfigError(source: "", problem: "missing key 'architecture'"),
        ]
        #expect(
            errors.map(\.description) == [
                "w.pth: not a zip", "a.png: corrupt PNG", "gt.json: missing field 'images'", "no usable image",
                "c.json: unknown key 'x'", "missing key 'architecture'",
            ])
        #expect(errors.map(\.subject) == ["w.pth", "a.png", "gt.json", nil, "c.json", nil])
    }

    /// Weight-file and image errors are one type: a caller catches `FileError` for both.
    @Test func fileErrorsAreOneType() throws {
        do {
            _ = try WeightFile.load(URL(fileURLWithPath: "/nonexistent/weights.pth"))
            Issue.record("loading a missing file did not throw")
        } catch let e as FileError {
            #expect(e.file == "/nonexistent/weights.pth" && !e.problem.isEmpty)
        }
        #expect(FileError.self == FileError.self)
    }
}
