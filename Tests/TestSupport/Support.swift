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

    /// Where the shared fixtures are looked for: `$DETR_FIXTURES` (a relative path is taken from
    /// the repository root), else `../shared/fixtures`. The directory may not exist.
    public static var sharedFixturesLocation: URL {
        let env = ProcessInfo.processInfo.environment["DETR_FIXTURES"]
        return env.map { URL(fileURLWithPath: $0, relativeTo: repoRoot).standardized }
            ?? repoRoot.appendingPathComponent("../shared/fixtures").standardized
    }

    /// `sharedFixturesLocation` when that directory exists, else nil.
    public static var sharedFixtures: URL? {
        let url = sharedFixturesLocation
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// `../shared/specs` (official key lists and architecture notes); nil when absent.
    public static var sharedSpecs: URL? {
        let url = repoRoot.appendingPathComponent("../shared/specs").standardized
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// True under CI (`CI` set), where missing fixtures fail tests instead of skipping them.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// The reason given when the shared fixtures are missing.
    public static var missingFixturesMessage: String {
        "shared fixtures not found at \(sharedFixturesLocation.path) (set DETR_FIXTURES)"
    }

    /// The shared fixture directory, or `path` inside it. Records `missingFixturesMessage` and
    /// throws when the directory is absent (tests that call it carry the `.needsFixtures` trait,
    /// so this happens only under CI).
    public static func fixtures(_ path: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> URL
    {
        let dir = try #require(
            sharedFixtures, Comment(rawValue: missingFixturesMessage), sourceLocation: sourceLocation)
        return path.map { dir.appendingPathComponent($0) } ?? dir
    }

    /// The shared specs directory; records a failure and throws when it is absent.
    public static func specs(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        try #require(sharedSpecs, "shared specs not found at ../shared/specs", sourceLocation: sourceLocation)
    }

    /// The tensors of a safetensors file of the shared fixtures (`salience_detr/tiny_eval.safetensors`).
    public static func fixtureTensors(
        _ path: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> StateDict {
        try Safetensors.read(contentsOf: fixtures(path, sourceLocation: sourceLocation)).tensors
    }

    /// A JSON object file of the shared fixtures (`salience_detr/tiny.json`, `*/tiny.config.json`).
    public static func fixtureJSON(
        _ path: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [String: Any] {
        let data = try Data(contentsOf: fixtures(path, sourceLocation: sourceLocation))
        return try #require(
            try JSONSerialization.jsonObject(with: data) as? [String: Any],
            "\(path) is not a JSON object", sourceLocation: sourceLocation)
    }

    /// The number of images of an eval fixture: the leading dimension of its `pre.batch`.
    public static func imageCount(_ eval: StateDict, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        try #require(eval["pre.batch"], "fixture has no pre.batch", sourceLocation: sourceLocation).size(0)
    }

    /// The rows of an integer `[B, 2]` tensor of (h, w) pairs (`pre.orig_sizes`, `post.target_sizes`).
    public static func sizes(_ t: Tensor) -> [(height: Int, width: Int)] {
        let v = t.ints
        return stride(from: 0, to: v.count - 1, by: 2).map { (height: v[$0], width: v[$0 + 1]) }
    }

    /// Test data committed in this repository (`Tests/Fixtures/...`).
    public static func localFixture(_ path: String) -> URL {
        repoRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(path)
    }

    /// (key, shape) pairs of an official key list in ../shared/specs/keys (scalars have shape []).
    public static func officialKeys(
        _ file: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [(String, [Int])] {
        let url = try specs(sourceLocation: sourceLocation).appendingPathComponent("keys/\(file)")
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
    public static func expectClose(
        _ a: Tensor, _ ref: Tensor, atol: Double = 1e-6, rtol: Double = 1e-5,
        _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
    ) -> Bool {
        guard a.shape == ref.shape else {
            Issue.record("\(what): shape \(a.shape) != reference \(ref.shape)", sourceLocation: sourceLocation)
            return false
        }
        let diff = maxAbsDiff(a, ref)
        let scale = ref.count == 0 ? 0 : ref.to(.float64).abs().max().item()
        let ok = diff <= atol + rtol * scale
        if !ok {
            Issue.record(
                "\(what): max|a-b| = \(diff) exceeds \(atol) + \(rtol) * \(scale)", sourceLocation: sourceLocation)
        }
        return ok
    }
}

extension Trait where Self == ConditionTrait {
    /// For tests that read the shared fixtures: outside CI they are skipped when the fixtures are
    /// missing; under CI they run and fail in `TestSupport.fixtures()` with the same reason.
    public static var needsFixtures: Self {
        .enabled(
            if: TestSupport.sharedFixtures != nil || TestSupport.isCI,
            Comment(rawValue: TestSupport.missingFixturesMessage))
    }

    /// For tests that read ../shared/specs: skipped outside CI when it is missing, failed under CI.
    public static var needsSpecs: Self {
        .enabled(if: TestSupport.sharedSpecs != nil || TestSupport.isCI, "shared specs not found at ../shared/specs")
    }
}
