import Foundation
import TestSupport
import Testing
import Torch

/// libtorch failures surface as `TorchError.libtorch` with libtorch's own message inside
/// `Torch.catching { }` (messages compared with PyTorch's, stored by generate.py).
@Suite struct ErrorTests {
    func libtorchMessage(_ body: () throws -> Void) -> String? {
        do {
            try Torch.catching { try body() }
        } catch TorchError.libtorch(let message) {
            return message
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return nil
    }

    @Test func shapeMismatchCarriesLibtorchMessage() throws {
        let cases: [(String, () -> Tensor)] = [
            ("error.mm", { Tensor.ones([2, 3]).matmul(Tensor.ones([4, 4])) }),
            ("error.add", { Tensor.ones([2, 3]) + Tensor.ones([4]) }),
            ("error.cat", { Tensor.cat([Tensor.ones([2, 3]), Tensor.ones([2, 4])], dim: 0) }),
        ]
        for (key, op) in cases {
            let expected = try #require(Ref.metadata[key], "reference message \(key)")
            let message = libtorchMessage { _ = op() }
            #expect(message?.contains(expected) == true, "\(key): \(message ?? "no error") vs \(expected)")
        }
    }

    @Test func failureInsideScopeGivesUndefinedTensorsAndFirstMessage() {
        var failed: Tensor?
        let message = libtorchMessage {
            let bad = Tensor.ones([2, 3]).matmul(Tensor.ones([4, 4]))
            failed = bad
            _ = (bad + 1).sum()  // fails quietly on the undefined tensor
            _ = Tensor.ones([2]).view(3)  // a later, different failure
        }
        #expect(message?.contains("mat1 and mat2 shapes cannot be multiplied") == true)
        #expect(failed?.isDefined == false && failed?.description == "Tensor(undefined)")
        #expect(throws: Never.self) { try Torch.catching { Tensor.ones([2]) + 1 } }
        #expect((try? Torch.catching { (Tensor.ones([2]) + 1).sum().item() }) == 4)
    }

    @Test func nestedScopes() throws {
        // The inner failure stays inside the inner scope; the outer scope continues cleanly.
        let value = try Torch.catching { () -> Double in
            let inner = libtorchMessage { _ = Tensor.ones([2]) + Tensor.ones([3]) }
            #expect(inner != nil)
            return (Tensor.ones([2]) * 3).sum().item()
        }
        #expect(value == 6)

        // An outer failure is reported by the outer scope, not hidden by a clean inner scope.
        let outer = libtorchMessage {
            _ = Tensor.ones([2, 3]).matmul(Tensor.ones([4, 4]))
            try Torch.catching { _ = Tensor.ones([2]) + 1 }
        }
        #expect(outer?.contains("mat1 and mat2") == true)

        // A Swift error thrown in the body propagates unchanged and closes the scope.
        struct Custom: Error, Equatable {}
        #expect(throws: Custom.self) {
            try Torch.catching {
                _ = Tensor.ones([2]) + Tensor.ones([3]); throw Custom()
            }
        }
        #expect(libtorchMessage { _ = Tensor.ones([1]) } == nil)
    }

    @Test func statusAndListFunctionsReportToo() {
        #expect(libtorchMessage { _ = Tensor.ones([3]).topk(5) }?.contains("selected index k out of range") == true)
        #expect(libtorchMessage { _ = Tensor.ones([2, 2]).item() }?.contains("cannot be converted to Scalar") == true)
        #expect(libtorchMessage { _ = Tensor.ones([3]).split(0) } != nil)
        #expect(
            libtorchMessage { Tensor.ones([3]).requiringGrad().backward() }?
                .contains("grad can be implicitly created only for scalar outputs") == true)
        #expect(
            libtorchMessage { Tensor.ones([3], dtype: .int64).requiresGrad = true }?
                .contains("floating point") == true)
    }

    @Test func userInputErrorsThrowTypedErrors() throws {
        let bytes: [UInt8] = [1, 2, 3]
        #expect(throws: TorchError.self) {
            _ = try bytes.withUnsafeBytes { try Tensor(bytes: $0, dtype: .float32, shape: [1]) }
        }
        #expect(throws: TorchError.self) { try Generator(seed: 1).setState(Tensor.zeros([3], dtype: .uint8)) }
    }

    /// Capture scopes and error slots are per thread.
    @Test func scopesArePerThread() {
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var ok = [Bool](repeating: false, count: 8)
            func set(_ i: Int, _ v: Bool) { lock.withLock { ok[i] = v } }
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let threw: Bool
            do {
                try Torch.catching { if i % 2 == 0 { _ = Tensor.ones([2]) + Tensor.ones([3]) } }
                threw = false
            } catch {
                threw = true
            }
            results.set(i, threw == (i % 2 == 0))
        }
        #expect(results.ok.allSatisfy { $0 })
    }
}
