import Foundation

/// Smoothing of noisy per-step values (losses) for charts.
public enum Smoothing {
    /// The exponential moving average with bias correction: `m = w·m + (1−w)·v` from `m = 0`,
    /// each output `m / (1 − w^i)` after the i-th value, so the first outputs are not pulled
    /// towards zero. Weight 0 returns the values unchanged; non-finite values are passed
    /// through without entering the average.
    public static func exponential(_ values: [Double], weight: Double) -> [Double] {
        let w = Swift.max(0, Swift.min(weight, 0.9999))
        var m = 0.0, correction = 1.0
        return values.map { v in
            guard v.isFinite else { return v }
            m = w * m + (1 - w) * v
            correction *= w
            return m / (1 - correction)
        }
    }

    /// A weight that averages over about 3% of `count` points (none below 34 points):
    /// `1 − 1 / max(1, count / 33)`.
    public static func automaticWeight(count: Int) -> Double {
        1 - 1 / Swift.max(1, Double(count) / 33)
    }
}
