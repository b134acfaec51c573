import Datasets

/// SplitMix64: a small seeded generator, so that every run of a fuzz test tries the same cases on
/// every machine.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 { SeededRandom.splitMix(&state) }

    /// A value in `range`.
    public mutating func int(_ range: Range<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
}
