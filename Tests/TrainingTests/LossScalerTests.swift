import Foundation
import Testing
import Torch
import Training

/// Dynamic loss scaling (GradScaler's rules) on hand-made gradients.
struct LossScalerTests {
    static func parameter(_ values: [Float], grad: [Float]) -> Tensor {
        let p = Tensor(values).requiringGrad()
        (p * Tensor(grad)).sum().backward()
        return p
    }

    @Test func finiteGradientsAreDividedByTheScale() {
        var scaler = LossScaler()
        scaler.scale = 8
        let a = Self.parameter([1, 2], grad: [8, -16]), b = Self.parameter([3], grad: [4])
        #expect(scaler.unscale([a, b]))
        #expect(a.grad?.floats == [1, -2] && b.grad?.floats == [0.5])
    }

    @Test(arguments: [Float.infinity, -Float.infinity, Float.nan])
    func anOverflowLeavesTheGradientsAndBacksOff(_ bad: Float) {
        var scaler = LossScaler()
        let a = Self.parameter([1, 2], grad: [8, 16]), b = Self.parameter([3], grad: [bad])
        #expect(!scaler.unscale([a, b]))
        #expect(a.grad?.floats == [8, 16])
        scaler.update(finite: false)
        #expect(scaler.scale == 32768 && scaler.goodSteps == 0)
    }

    @Test func theScaleGrowsAfterGrowthIntervalFiniteStepsInARow() throws {
        var scaler = LossScaler()
        scaler.growthInterval = 3
        scaler.update(finite: true)
        scaler.update(finite: true)
        scaler.update(finite: false)  // resets the run
        #expect(scaler.scale == 32768)
        for _ in 0..<2 { scaler.update(finite: true) }
        #expect(scaler.scale == 32768 && scaler.goodSteps == 2)
        scaler.update(finite: true)
        #expect(scaler.scale == 65536 && scaler.goodSteps == 0)
        #expect(try LossScaler(encoded: scaler.encoded) == scaler)
    }
}
