import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch
import Vision

/// The library example of README.md, compiled here; a test checks the README shows exactly it.
func readmeExample() throws {
    // README-EXAMPLE-BEGIN
    let predictor = try Predictor.load(config: "conditional-detr-r50", weights: "ConditionalDETR_r50_epoch50.pth")
    let image = try Image(contentsOf: URL(fileURLWithPath: "cat.jpg"), applyExifOrientation: true)
    let detections = try predictor.predict([image], options: DetectionOptions(threshold: 0.5)).detections[0]
    for d in detections { print(predictor.names[d.label], d.score, d.box) }
    // README-EXAMPLE-END
}

@Test func readmeShowsTheCompiledExample() throws {
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    let begin = try #require(source.range(of: "    // README-EXAMPLE-BEGIN\n"))
    let end = try #require(source.range(of: "    // README-EXAMPLE-END"))
    let body = source[begin.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : String($0) }.joined(separator: "\n")
    let readme = try String(contentsOf: TestSupport.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(
        readme.contains(body), "README.md's library example differs from Tests/DetectionTests/ReadmeExampleTests.swift")
    // Running it without the weights file must fail cleanly (an error naming the file), not crash.
    do {
        try readmeExample()
        Issue.record("example ran without weights")
    } catch {
        #expect("\(error)".contains("ConditionalDETR_r50_epoch50.pth"))
    }
}
