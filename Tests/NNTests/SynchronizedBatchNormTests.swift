import NN
import TestSupport
import Testing
import Torch

/// `BatchNorm2d` synchronised over two processes (ranks on threads, Gloo on 127.0.0.1): each
/// rank's half of a batch normalised with the whole batch's statistics gives what one process
/// computes on the whole batch: outputs, input gradients, the parameters' gradients summed over
/// the ranks, and the running statistics.
@Suite(.serialized) struct SynchronizedBatchNormTests {
    final class Reducer: BatchStatisticsReducer, @unchecked Sendable {
        let group: ProcessGroup
        let weight: Double
        init(_ group: ProcessGroup, weight: Double = 1) {
            self.group = group
            self.weight = weight
        }
        func sum(_ t: Tensor) -> Tensor { try! group.differentiableSum(t) }
    }

    static func input() -> (x: Tensor, upstream: Tensor) {
        let g = Generator(seed: 3)
        let x = Tensor.randn([4, 3, 5, 6], generator: g) * 2 + 0.5
        return (x, Tensor.randn([4, 3, 5, 6], generator: g))
    }

    static func layer() -> BatchNorm2d {
        let store = ParameterStore(generator: Generator(seed: 1))
        let m = BatchNorm2d(store.root, numFeatures: 3)
        withNoGrad {
            _ = m.weight!.copy_(Tensor([Float(1.5), 0.5, -1]))
            _ = m.bias!.copy_(Tensor([Float(0.1), -0.2, 0.3]))
        }
        return m
    }

    @Test func twoRanksEqualOneProcessOnTheWholeBatch() throws {
        let (x, upstream) = Self.input()
        let whole = Self.layer()
        let xs = x.clone().requiringGrad()
        let y = whole(xs, training: true)
        (y * upstream).sum().backward()
        let expected = (
            y: y.detach(), gx: xs.grad!, gw: whole.weight!.grad!, gb: whole.bias!.grad!, mean: whole.runningMean!,
            variance: whole.runningVar!
        )
        let reference = expected
        let errors = try TestSupport.twoRanks { rank, group in
            let m = Self.layer()
            // Rank 0 gets 3 images, rank 1 one: uneven shares, as the last batch of a group can be.
            let (start, count) = rank == 0 ? (0, 3) : (3, 1)
            let xr = x.slice(dim: 0, start: start, end: start + count).clone().requiringGrad()
            let yr = m(xr, training: true, synchronizedBy: Reducer(group))
            (yr * upstream.slice(dim: 0, start: start, end: start + count)).sum().backward()
            let part = { (t: Tensor) in t.slice(dim: 0, start: start, end: start + count) }
            TestSupport.expectClose(yr, part(reference.y), atol: 1e-5, "output of rank \(rank)")
            TestSupport.expectClose(xr.grad!, part(reference.gx), atol: 1e-5, "input gradient of rank \(rank)")
            // Σ over ranks of the parameter gradients = the whole batch's.
            let gw = m.weight!.grad!.clone(), gb = m.bias!.grad!.clone()
            try group.allReduce(gw)
            try group.allReduce(gb)
            TestSupport.expectClose(gw, reference.gw, atol: 1e-4, "weight gradient")
            TestSupport.expectClose(gb, reference.gb, atol: 1e-4, "bias gradient")
            TestSupport.expectClose(m.runningMean!, reference.mean, atol: 1e-6, "running mean")
            TestSupport.expectClose(m.runningVar!, reference.variance, atol: 1e-5, "running variance")
            #expect(m.numBatchesTracked?.itemInt() == 1)
        }
        #expect(errors.isEmpty, "\(errors)")
    }

    /// A placeholder share (weight 0) changes nothing: rank 1 normalises a copy of rank 0's
    /// images with rank 0's statistics, and rank 0 gets exactly the single-process result.
    @Test func aPlaceholderShareCountsNothing() throws {
        let (x, upstream) = Self.input()
        let whole = Self.layer()
        let y = whole(x, training: true).detach()
        let reference = (y: y, mean: whole.runningMean!, variance: whole.runningVar!)
        let errors = try TestSupport.twoRanks { rank, group in
            let m = Self.layer()
            let yr = m(x, training: true, synchronizedBy: Reducer(group, weight: rank == 0 ? 1 : 0))
            (yr * upstream).sum().backward()
            TestSupport.expectClose(yr, reference.y, atol: 1e-5, "output of rank \(rank)")
            TestSupport.expectClose(m.runningMean!, reference.mean, atol: 1e-6, "running mean")
            TestSupport.expectClose(m.runningVar!, reference.variance, atol: 1e-5, "running variance")
        }
        #expect(errors.isEmpty, "\(errors)")
    }
}
