import Foundation
import TestSupport
import Testing
import Torch

/// A reference tensor missing from `Tests/Fixtures/ops/ops.safetensors`.
struct MissingReference: Error, CustomStringConvertible {
    let name: String
    var description: String {
        "no reference '\(name)' in Tests/Fixtures/ops/ops.safetensors (regenerate with Tests/Fixtures/ops/generate.py)"
    }
}

/// PyTorch reference values written by `Tests/Fixtures/ops/generate.py`.
enum Ref {
    static let file = "ops/ops.safetensors"
    private static let loaded: Result<StateDict, any Error> = Result { try TestSupport.reference(file) }

    /// A private copy of reference `name` (tests may modify it in place or mark it requiring grad).
    static func get(_ name: String) throws -> Tensor {
        guard let t = try loaded.get()[name] else { throw MissingReference(name: name) }
        return t.clone()
    }

    /// The reference names that start with `prefix`, in file order.
    static func names(withPrefix prefix: String) throws -> [String] {
        try loaded.get().keys.filter { $0.hasPrefix(prefix) }
    }

    /// The `__metadata__` strings of the reference file (exception messages, torch version).
    static let metadata: [String: String] = {
        (try? Safetensors.read(contentsOf: TestSupport.localFixture(file)).metadata) ?? [:]
    }()
}

/// Set `OPS_REPORT=1` to print every comparison's max |a - ref| (for tolerance reviews).
private let report = ProcessInfo.processInfo.environment["OPS_REPORT"] != nil

/// Prints `max|a - ref|` under `OPS_REPORT=1`.
func reportDiff(_ name: String, _ a: Tensor, _ ref: Tensor) {
    if report, a.shape == ref.shape { print("OPS_REPORT \(name) max|diff| = \(TestSupport.maxAbsDiff(a, ref))") }
}

/// Compares `value` with reference `name`: same dtype and shape, and
/// `max|value - ref| <= atol + rtol * max|ref|` (exact equality for integer and bool dtypes).
@discardableResult
func check(
    _ value: Tensor, _ name: String, atol: Double = 1e-5, rtol: Double = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> Bool {
    let ref = try Ref.get(name)
    return compare(value, ref, name, atol: atol, rtol: rtol, sourceLocation: sourceLocation)
}

/// `check` against an already loaded reference tensor.
@discardableResult
func compare(
    _ value: Tensor, _ ref: Tensor, _ name: String, atol: Double = 1e-5, rtol: Double = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
    guard value.dtype == ref.dtype else {
        Issue.record("\(name): dtype \(value.dtype) != reference \(ref.dtype)", sourceLocation: sourceLocation)
        return false
    }
    if !ref.dtype.isFloatingPoint {
        let same = value.shape == ref.shape && value.bytes() == ref.bytes()
        if !same {
            Issue.record("\(name): \(value) != reference \(ref)", sourceLocation: sourceLocation)
        }
        return same
    }
    reportDiff(name, value, ref)
    return TestSupport.expectClose(value, ref, atol: atol, rtol: rtol, name, sourceLocation: sourceLocation)
}

/// Exact equality of dtype, shape and bytes (NaN payloads included).
func expectSame(_ a: Tensor, _ b: Tensor, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.dtype == b.dtype, "\(what): dtype", sourceLocation: sourceLocation)
    #expect(a.shape == b.shape, "\(what): shape", sourceLocation: sourceLocation)
    #expect(a.bytes() == b.bytes(), "\(what): values", sourceLocation: sourceLocation)
}
