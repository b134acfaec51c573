import TestSupport
import Testing

@testable import Torch

/// Inference products under autocast read weight copies kept with the weights: the same values as
/// autocast's own casts, made once, remade when the weight changes, never used where a gradient
/// must reach the weight.
@Suite struct AutocastWeightsTests {
    static func parameter(_ shape: [Int], seed: UInt64) -> Tensor {
        let t = Tensor.randn(shape, generator: Generator(seed: seed))
        t.requiresGrad = true
        return t
    }

    /// A linear and a convolution under bf16 and fp16 autocast give, bit for bit, the product of
    /// operands cast explicitly (what autocast does on every call), and keep one copy per weight.
    @Test(arguments: [Precision.bf16, .fp16]) func inferenceProductsReadKeptCopies(_ precision: Precision) throws {
        let dtype = try #require(precision.autocastDType)
        let (w, b) = (Self.parameter([6, 5], seed: 1), Self.parameter([6], seed: 2))
        let x = Tensor.randn([3, 4, 5], generator: Generator(seed: 3))
        let (cw, cb) = (Self.parameter([4, 3, 3, 3], seed: 4), Self.parameter([4], seed: 5))
        let image = Tensor.randn([2, 3, 7, 9], generator: Generator(seed: 6))
        let (y, conv) = withNoGrad {
            withAutocast(precision, device: .cpu) {
                (
                    Tensor.linear(x, weight: w, bias: b),
                    Functional.conv2d(image, weight: cw, bias: cb, padding: (1, 1))
                )
            }
        }
        let explicit = withNoGrad {
            (
                Tensor.linear(x.to(dtype), weight: w.to(dtype), bias: b.to(dtype)),
                Functional.conv2d(image.to(dtype), weight: cw.to(dtype), bias: cb.to(dtype), padding: (1, 1))
            )
        }
        #expect(y.dtype == dtype && conv.dtype == dtype)
        #expect(TestSupport.maxAbsDiff(y.to(.float32), explicit.0.to(.float32)) == 0)
        #expect(TestSupport.maxAbsDiff(conv.to(.float32), explicit.1.to(.float32)) == 0)
        // One copy per weight, reused by the next forward.
        let copy = try #require(withNoGrad { withAutocast(precision, device: .cpu) { w.autocastOperand() } })
        #expect(copy !== w && copy.dtype == dtype)
        #expect(withNoGrad { withAutocast(precision, device: .cpu) { w.autocastOperand() } } === copy)
        #expect(w.dtype == .float32)
    }

    /// An in-place change of the weight (a checkpoint load, an optimizer step) makes a new copy.
    @Test func aChangedWeightIsCopiedAgain() {
        let w = Self.parameter([4, 4], seed: 7)
        let operand = { withNoGrad { withAutocast(.bf16, device: .cpu) { w.autocastOperand() } } }
        let first = operand()
        withNoGrad { _ = w.mul_(2) }
        let second = operand()
        #expect(second !== first)
        #expect(TestSupport.maxAbsDiff(second.to(.float32), withNoGrad { w.to(.bfloat16) }.to(.float32)) == 0)
        #expect(operand() === second)
    }

    /// Outside autocast, while a gradient is to reach the weight, and for a weight that is not
    /// float32, the operand is the tensor itself; a training step's gradient reaches the weight.
    @Test func noCopyOutsideAutocastOrWhereAGradientFlows() {
        let w = Self.parameter([3, 2], seed: 8)
        #expect(withNoGrad { w.autocastOperand() } === w)
        #expect(withAutocast(.bf16, device: .cpu) { w.autocastOperand() } === w)
        let half = withNoGrad { w.to(.bfloat16) }
        #expect(withNoGrad { withAutocast(.bf16, device: .cpu) { half.autocastOperand() } } === half)
        let x = Tensor.randn([5, 2], generator: Generator(seed: 9))
        let loss = withAutocast(.bf16, device: .cpu) { Tensor.linear(x, weight: w, bias: nil) }.to(.float32).sum()
        loss.backward()
        #expect(w.grad?.shape == [3, 2])
    }
}
