import TestSupport
import Testing
import Torch

/// Creation functions and seeded random numbers against `torch` (references from generate.py).
@Suite struct OpsCreationTests {
    @Test func constants() throws {
        try check(Tensor.arange(2, 17, step: 3), "creation.arange_int")
        try check(Tensor.arange(5), "creation.arange_end")
        try check(Tensor.arange(from: 0.5, to: 4.0, step: 0.5), "creation.arange_float")
        try check(Tensor.linspace(-1, 1, steps: 7), "creation.linspace", atol: 0, rtol: 0)
        try check(Tensor.linspace(0, 1, steps: 5, dtype: .float64), "creation.linspace_f64", atol: 0, rtol: 0)
        try check(Tensor.full([2, 3], 2.5), "creation.full")
        try check(Tensor.full([2, 2], 7, dtype: .int32), "creation.full_int32")
        try check(Tensor.eye(3), "creation.eye")

        let z = Tensor.zeros([2, 3], dtype: .int32)
        #expect(z.shape == [2, 3] && z.dtype == .int32 && z.ints == [0, 0, 0, 0, 0, 0])
        let o = Tensor.ones([4], dtype: .float16)
        #expect(o.dtype == .float16 && o.floats == [1, 1, 1, 1])
        #expect(Tensor.full([2], true, dtype: .bool).bools == [true, true])
        #expect(Tensor.empty([0, 3]).shape == [0, 3])
        let s = Tensor(scalar: 2.5)
        #expect(s.rank == 0 && s.count == 1 && s.item() == 2.5 && s.dtype == .float64)
        let x = Tensor([1, 2, 3] as [Float], shape: [3, 1])
        #expect(x.zerosLike().shape == [3, 1] && x.onesLike().floats == [1, 1, 1])
        #expect(x.fullLike(4).floats == [4, 4, 4] && x.fullLike(4).dtype == .float32)
    }

    /// The same seed gives PyTorch's numbers: `torch.randn(..., generator=torch.Generator().manual_seed(s))`.
    @Test func seededRandomMatchesPyTorch() throws {
        try check(Tensor.randn([3, 5], generator: Generator(seed: 42)), "creation.randn_seed42", atol: 1e-6)
        try check(Tensor.randn([4, 8], generator: Generator(seed: 42)), "creation.randn_seed42_big", atol: 1e-6)
        try check(
            Tensor.randn([20], generator: Generator(seed: 42), dtype: .float64), "creation.randn_f64_seed42",
            atol: 1e-12)
        try check(Tensor.rand([4, 3], generator: Generator(seed: 7)), "creation.rand_seed7", atol: 1e-7)
        try check(Tensor.randint(0, 10, [6], generator: Generator(seed: 3)), "creation.randint_seed3")
        try check(
            Tensor.randint(-5, 5, [2, 4], generator: Generator(seed: 3), dtype: .int32),
            "creation.randint_i32_seed3")
        try check(Tensor.randperm(8, generator: Generator(seed: 5)), "creation.randperm_seed5")
        try check(
            Tensor.empty([5]).normal_(mean: 2, std: 0.5, generator: Generator(seed: 11)),
            "creation.normal_seed11", atol: 1e-6)
        try check(
            Tensor.empty([5]).uniform_(-1, 1, generator: Generator(seed: 11)), "creation.uniform_seed11",
            atol: 1e-7)
        try check(
            Ref.get("creation.bernoulli.p").bernoulli(generator: Generator(seed: 9)),
            "creation.bernoulli_seed9")
        let g = Generator(seed: 1)
        _ = Tensor.randn([6], generator: g)
        try check(Tensor.randn([6], generator: g), "creation.randn_seed1_second", atol: 1e-6)
    }

    @Test func generatorSeedReproducesStream() {
        let a = Tensor.randn([16], generator: Generator(seed: 99))
        let b = Tensor.randn([16], generator: Generator(seed: 99))
        expectSame(a, b, "same seed")
        let c = Tensor.randn([16], generator: Generator(seed: 100))
        #expect(a.floats != c.floats)

        let g = Generator(seed: 99)
        _ = Tensor.rand([5], generator: g)
        g.manualSeed(99)
        expectSame(Tensor.randn([16], generator: g), a, "reseeded")
    }

    @Test func generatorStateRestoreReproducesStream() throws {
        let g = Generator(seed: 2024)
        _ = Tensor.randn([7], generator: g)  // odd count: leaves a cached normal sample
        let saved = g.state
        #expect(saved.dtype == .uint8 && saved.count > 0)
        let first = [
            Tensor.randn([5], generator: g), Tensor.rand([9], generator: g),
            Tensor.randint(0, 100, [4], generator: g),
        ]
        try g.setState(saved)
        let again = [
            Tensor.randn([5], generator: g), Tensor.rand([9], generator: g),
            Tensor.randint(0, 100, [4], generator: g),
        ]
        for (x, y) in zip(first, again) { expectSame(x, y, "after setState") }

        // The state moves to another generator, and survives a bytes round trip (checkpoints).
        let other = Generator(seed: 1)
        try other.setState(Tensor(saved.toArray(UInt8.self)))
        expectSame(Tensor.randn([5], generator: other), first[0], "other generator")
    }

    /// With `.torch` masks dropout draws from the generator passed in exactly as PyTorch's F.dropout
    /// does from the default generator after `torch.manual_seed(123)`: the same stream.
    @Test func dropout() throws {
        let x = try Ref.get("creation.dropout.x")
        let y = Functional.dropout(x, p: 0.3, training: true, generator: Generator(seed: 123), stream: .torch)
        try check(y, "creation.dropout_p03_seed123", atol: 1e-6)
        expectSame(Functional.dropout(x, p: 0.3, training: false), x, "eval is identity")
        expectSame(Functional.dropout(x, p: 0, training: true), x, "p = 0 is identity")
        #expect(Functional.dropout(x, p: 1, training: true).abs().sum().item() == 0)
    }

    /// The default, counter-based masks: reproducible from the generator, the right keep rate
    /// and scale, independent from call to call, and the generator moves on by one draw.
    @Test func counterBasedDropout() {
        let x = Tensor.ones([200_000])
        let a = Functional.dropout(x, p: 0.3, training: true, generator: Generator(seed: 9))
        let b = Functional.dropout(x, p: 0.3, training: true, generator: Generator(seed: 9))
        #expect((a - b).abs().max().item() == 0)
        let kept = (a .!= Float(0)).to(.float32)
        #expect(abs(kept.mean().item() - 0.7) < 0.005)
        #expect(abs(a.max().item() - 1 / 0.7) < 1e-6 && a.min().item() == 0)
        let g = Generator(seed: 9)
        let first = Functional.dropout(x, p: 0.3, training: true, generator: g)
        let second = Functional.dropout(x, p: 0.3, training: true, generator: g)
        let agreement = ((first .!= Float(0)) .== (second .!= Float(0))).to(.float32).mean().item()
        #expect(abs(agreement - (0.7 * 0.7 + 0.3 * 0.3)) < 0.005)  // independent masks
        // Neighbouring elements are independent too (no stripes in the hash stream).
        let pairs = (kept.slice(dim: 0, end: 199_999) * kept.slice(dim: 0, start: 1)).mean().item()
        #expect(abs(pairs - 0.49) < 0.005)
    }
}
