/// A small, fast, seeded random source (xoshiro256** seeded through SplitMix64), passed
/// explicitly wherever the data pipeline needs randomness — no global state, so every
/// augmentation and shuffle is reproducible from a seed.
///
/// Streams for independent purposes are derived with `init(seed:stream:)`: the data loader
/// gives each sample the stream `(seed, epoch, sample index)`, so a sample's augmentation does
/// not depend on which worker handled it, on the batch it landed in, or on what ran before.
///
/// The draws (`uniform()`, `int(in:)`, `choice(_:)`) are defined here rather than through the
/// standard library's `random(in:using:)`, so the sequence for a seed never changes with the
/// Swift version.
public struct SeededRandom: Sendable, Equatable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose whole state is expanded from `seed` with SplitMix64.
    public init(seed: UInt64) {
        var sm = seed
        s0 = Self.splitMix(&sm)
        s1 = Self.splitMix(&sm)
        s2 = Self.splitMix(&sm)
        s3 = Self.splitMix(&sm)
    }

    /// A generator for one stream of a seed, e.g. `[epoch, sampleIndex]`: each component is
    /// folded into the seed through SplitMix64, so nearby components give unrelated streams.
    public init(seed: UInt64, stream: [UInt64]) {
        var h = seed
        for component in stream {
            var mix = h ^ (component &* 0xD1B5_4A32_D192_ED03)
            h = Self.splitMix(&mix)
        }
        self.init(seed: h)
    }

    /// SplitMix64's increment, 2^64 / φ: also what separates per-process seeds.
    public static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// SplitMix64 step: advances `state` and returns a well-mixed 64-bit value.
    public static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= golden
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * uniform()
    }

    /// True with probability `p`.
    public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

    /// A uniform integer in the closed range (both bounds included, like Python's `randint`),
    /// without modulo bias.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound) &- Int64(range.lowerBound)) &+ 1
        if span == 0 { return Int(truncatingIfNeeded: next()) }  // the full 64-bit range
        let limit = UInt64.max - UInt64.max % span  // reject the biased tail
        var x = next()
        while x >= limit { x = next() }
        return range.lowerBound &+ Int(truncatingIfNeeded: x % span)
    }

    /// A uniformly chosen element (like Python's `random.choice`). The collection must not be empty.
    public mutating func choice<C: RandomAccessCollection>(_ elements: C) -> C.Element {
        precondition(!elements.isEmpty, "SeededRandom.choice: empty collection")
        let k = int(in: 0...(elements.count - 1))
        return elements[elements.index(elements.startIndex, offsetBy: k)]
    }

    /// Fisher–Yates shuffle in place.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, int(in: 0...i))
        }
    }
}
