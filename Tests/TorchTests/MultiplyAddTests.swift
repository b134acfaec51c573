import Foundation
import Testing
import Torch

/// `OperationTrace.multiplyAdds`: fvcore's counting rules on operators of known shapes, stage
/// labels, and the head rule.
@Suite struct MultiplyAddTests {
    @Test func countsTheMatrixOperatorsByStage() {
        let x = Tensor.randn([1, 2, 5, 5])
        let convWeight = Tensor.randn([4, 2, 3, 3])
        let w = Tensor.randn([3, 5]), head = Tensor.randn([7, 3])
        let a = Tensor.randn([2, 3, 4]), b = Tensor.randn([2, 4, 6])
        let trace = OperationTrace(purpose: .analysis)
        trace.addInput(x, name: "x")
        trace.addInput(a, name: "a")
        trace.addInput(b, name: "b")
        trace.addInitializer(convWeight, name: "backbone.conv.weight")
        trace.addInitializer(w, name: "encoder.linear.weight")
        trace.addInitializer(head, name: "class_embed.weight")
        _ = trace.record { () -> Tensor in
            let y = OperationTrace.labeled("backbone") {
                // [1, 4, 5, 5] outputs, 2 · 3 · 3 each: 1800; the ReLU counts nothing
                Functional.conv2d(x, weight: convWeight, padding: (1, 1)).relu()
            }
            return OperationTrace.labeled("encoder") {
                // nested labels keep the outer one
                let z = OperationTrace.labeled("encoder.part") {
                    Tensor.linear(y.view(20, 5), weight: w, bias: nil)  // 20 · 3 outputs, 5 each: 300
                }
                _ = a.matmul(b)  // 2 · 3 · 6 outputs, 4 each: 144
                // q [2, 3, 4], k [2, 5, 4], v [2, 5, 6]: 2 · 3 · 5 · (4 + 6) = 300
                _ = Functional.scaledDotProductAttention(a, Tensor.randn([2, 5, 4]), Tensor.randn([2, 5, 6]), scale: 0.5)
                return Tensor.linear(z, weight: head, bias: nil)  // 20 · 7 outputs, 3 each: 420, a head
            }
        }
        let count = trace.multiplyAdds { $0.hasPrefix("class_embed") }
        #expect(count.total == 1800 + 300 + 144 + 300 + 420)
        #expect(count.stages.map(\.name) == ["backbone", "encoder", "heads"])
        #expect(count.stages.map(\.count) == [1800, 300 + 144 + 300, 420])
        // Without a head rule the head is the encoder's.
        #expect(trace.multiplyAdds().stages.map(\.count) == [1800, 300 + 144 + 300 + 420])
    }

    @Test func countsEinsumAsTheProductOfItsIndexSizes() {
        let a = Tensor.randn([2, 3, 4]), b = Tensor.randn([2, 4, 5])
        let trace = OperationTrace(purpose: .analysis)
        trace.addInput(a, name: "a")
        trace.addInput(b, name: "b")
        _ = trace.record { Tensor.einsum("bij,bjk->bik", [a, b]) }
        #expect(trace.multiplyAdds().total == 2 * 3 * 4 * 5)
        #expect(trace.multiplyAdds().stages.map(\.name) == ["other"])
    }
}

/// Recordings on different threads run at the same time without seeing each other's operators.
@Suite struct ConcurrentRecordingTests {
    @Test func threadsRecordIndependently() {
        let lock = NSLock()
        nonisolated(unsafe) var results = [Int](repeating: 0, count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let x = Tensor.randn([4, 4])
            let trace = OperationTrace(purpose: .analysis)
            trace.addInput(x, name: "x")
            _ = trace.record { () -> Tensor in
                var y = x
                for _ in 0...i { y = y.matmul(x) }
                return y
            }
            // i + 1 products of 4 · 4 outputs, 4 each; nothing undeclared or unrecorded
            let total = trace.problems.isEmpty && trace.nodes.count == i + 1 ? trace.multiplyAdds().total : -1
            lock.withLock { results[i] = total }
        }
        #expect(results == (0..<8).map { ($0 + 1) * 64 })
    }
}
