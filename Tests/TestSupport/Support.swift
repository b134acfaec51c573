import Foundation
import Testing
import Torch

/// Locations and comparisons shared by the test targets.
public enum TestSupport {
    /// The repository root (found from this source file's location).
    public static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/TestSupport/Support.swift
        return url
    }()

    /// `../shared/fixtures` (or `$DETR_FIXTURES`); nil when absent.
    public static var sharedFixtures: URL? {
        let env = ProcessInfo.processInfo.environment["DETR_FIXTURES"]
        let url = env.map { URL(fileURLWithPath: $0, relativeTo: repoRoot) }
            ?? repoRoot.appendingPathComponent("../shared/fixtures").standardized
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// True under CI, where missing fixtures are a failure rather than a skip.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// Whether fixture-dependent tests can run. Records a failure under CI when they cannot.
    public static func fixturesAvailable(sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        if sharedFixtures != nil { return true }
        if isCI { Issue.record("shared fixtures not found (set DETR_FIXTURES)", sourceLocation: sourceLocation) }
        return false
    }

    /// Test data committed in this repository (`Tests/Fixtures/...`).
    public static func localFixture(_ path: String) -> URL {
        repoRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(path)
    }

    /// (key, shape) pairs of an official key list in ../shared/specs/keys (scalars have shape []).
    public static func officialKeys(_ file: String) throws -> [(String, [Int])] {
        let url = repoRoot.appendingPathComponent("../shared/specs/keys/\(file)").standardized
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            let shape = f.count > 1 && !f[1].isEmpty ? f[1].split(separator: ",").compactMap { Int($0) } : []
            return (String(f[0]), shape)
        }
    }

    /// Loads a committed safetensors file of reference values.
    public static func reference(_ path: String) throws -> StateDict {
        try Safetensors.read(contentsOf: localFixture(path)).tensors
    }

    /// max |a - b| over all elements (computed in float64); infinity on shape mismatch.
    public static func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Double {
        guard a.shape == b.shape else { return .infinity }
        if a.count == 0 { return 0 }
        return (a.to(.float64) - b.to(.float64)).abs().max().item()
    }

    /// Checks `max|a-b| <= atol + rtol * max|ref|` and records a readable failure otherwise.
    @discardableResult
    public static func expectClose(_ a: Tensor, _ ref: Tensor, atol: Double = 1e-6, rtol: Double = 1e-5,
                                   _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        guard a.shape == ref.shape else {
            Issue.record("\(what): shape \(a.shape) != reference \(ref.shape)", sourceLocation: sourceLocation)
            return false
        }
        let diff = maxAbsDiff(a, ref)
        let scale = ref.count == 0 ? 0 : ref.to(.float64).abs().max().item()
        let ok = diff <= atol + rtol * scale
        if !ok {
            Issue.record("\(what): max|a-b| = \(diff) exceeds \(atol) + \(rtol) * \(scale)", sourceLocation: sourceLocation)
        }
        return ok
    }
}
