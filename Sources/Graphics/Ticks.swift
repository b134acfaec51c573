import Foundation

/// Axis ticks at "nice" values: multiples of 1, 2 or 5 times a power of ten.
public struct Ticks: Sendable, Equatable {
    /// The tick values, ascending.
    public var values: [Double]
    /// The distance between neighbouring ticks.
    public var step: Double

    /// About `count` ticks covering `range`: the step is the nice number closest to
    /// `(upper - lower) / count`, the ticks are its multiples inside the range.
    public init(covering range: ClosedRange<Double>, count: Int = 5) {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else {
            values = [range.lowerBound]
            step = 1
            return
        }
        step = Self.niceStep(span / Double(Swift.max(1, count)))
        let first = (range.lowerBound / step).rounded(.up), last = (range.upperBound / step).rounded(.down)
        // Tolerance for ticks that land on the bounds up to rounding.
        let tolerance = 1e-9 * span
        var values: [Double] = []
        var i = first - 1
        while i <= last + 1 {
            let v = i * step
            if v >= range.lowerBound - tolerance && v <= range.upperBound + tolerance {
                // Multiples like 3 × 0.1 print as 0.30000000000000004; snap them to the decimal.
                values.append(v == 0 ? 0 : Self.clean(v, step: step))
            }
            i += 1
        }
        self.values = values
    }

    /// The nice number (1, 2 or 5 × 10^k) closest to `raw` by ratio.
    public static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.min { abs(log($0 / raw)) < abs(log($1 / raw)) }!
    }

    /// `range` widened outwards to the nearest multiples of the step of `count` ticks: data
    /// ranges become axis ranges that start and end on a tick.
    public static func niceRange(_ range: ClosedRange<Double>, count: Int = 5) -> ClosedRange<Double> {
        var lower = range.lowerBound, upper = range.upperBound
        if !(upper > lower) {
            // A single value: a unit-wide (or value-proportional) window around it.
            let pad = lower == 0 ? 1 : abs(lower) * 0.1
            lower -= pad
            upper += pad
        }
        let step = niceStep((upper - lower) / Double(Swift.max(1, count)))
        return clean(
            (lower / step).rounded(.down) * step, step: step)...clean(
                (upper / step).rounded(.up) * step, step: step)
    }

    /// Decimals needed to print multiples of `step` exactly.
    static func decimals(for step: Double) -> Int {
        guard step > 0, step.isFinite else { return 0 }
        var d = 0
        var s = step
        while d < 12 && abs(s - s.rounded()) > 1e-9 * Swift.max(1, abs(s)) {
            s *= 10
            d += 1
        }
        return d
    }

    static func clean(_ v: Double, step: Double) -> Double {
        let d = decimals(for: step)
        let p = pow(10, Double(d))
        return (v * p).rounded() / p
    }

    /// The label of tick `value`: plain decimals with as many digits as the step needs
    /// (0.25, 0.5, 0.75), thousands as "k" when the step is a multiple of 1000 (20k), and
    /// m·10^e notation for steps below 0.0001 (2e-5).
    public func label(_ value: Double) -> String { Self.label(value, step: step) }

    public static func label(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        if step < 0.0001 {
            let exponent = Int(log10(abs(value)).rounded(.down))
            let mantissa = value / pow(10, Double(exponent))
            let digits = Swift.max(0, decimals(for: step / pow(10, Double(exponent))))
            var m = String(format: "%.\(Swift.min(digits, 3))f", mantissa)
            if m.contains(".") {
                while m.hasSuffix("0") { m.removeLast() }
                if m.hasSuffix(".") { m.removeLast() }
            }
            return "\(m)e\(exponent)"
        }
        if step >= 1000, abs(value) >= 1000, (step / 1000).rounded() == step / 1000 {
            return String(format: "%.0fk", value / 1000)
        }
        return String(format: "%.\(decimals(for: step))f", value)
    }
}
