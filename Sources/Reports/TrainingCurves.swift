import Foundation
import Graphics
import Training
import Vision

/// Pictures of one or more training logs: every loss term over the steps (raw and smoothed),
/// the learning rate, and the COCO numbers of each evaluation; several runs share each chart,
/// one colour per run.
///
/// | file | content |
/// |---|---|
/// | `losses.png` | `loss` (the weighted total) and each term of the final prediction |
/// | `losses_aux.png` | the terms of auxiliary predictions (`_0`…, `_enc`, `_dn`…), when logged |
/// | `lr.png` | the learning rate of the default parameter group |
/// | `coco.png` | AP, AP50, ... ARl per evaluation, when the log has evaluations |
public struct TrainingCurves {
    /// One log and the name its lines carry in legends.
    public struct Run: Sendable {
        public var name: String
        public var records: TrainingLogRecords

        public init(name: String, records: TrainingLogRecords) {
            self.name = name
            self.records = records
        }
    }

    public var runs: [Run]
    /// Smoothing weight of the loss curves (`Smoothing.exponential`); nil: chosen per run from
    /// its number of steps (`Smoothing.automaticWeight`).
    public var smoothing: Double?

    public init(runs: [Run], smoothing: Double? = nil) {
        self.runs = runs
        self.smoothing = smoothing
    }

    /// Whether a term belongs to an auxiliary prediction: its name ends in `_N`, `_enc`, `_dn`
    /// or `_dn_N` (the official naming of decoder-layer, encoder and denoising terms).
    public static func isAuxiliary(_ term: String) -> Bool {
        let parts = term.split(separator: "_")
        guard parts.count >= 2, let last = parts.last else { return false }
        return last.allSatisfy(\.isNumber) || last == "enc" || last == "dn"
    }

    /// The COCO keys in summary order, with the panel titles (words, not "APl", which reads
    /// as "API" in most sans-serif faces).
    static let cocoKeys: [(key: String, title: String)] = [
        ("AP", "AP (IoU 0.50:0.95)"), ("AP50", "AP50"), ("AP75", "AP75"), ("APs", "AP small"),
        ("APm", "AP medium"), ("APl", "AP large"), ("AR1", "AR, 1 detection"), ("AR10", "AR, 10 detections"),
        ("AR100", "AR, 100 detections"), ("ARs", "AR small"), ("ARm", "AR medium"), ("ARl", "AR large"),
    ]

    /// Every picture, by file name, in writing order.
    public func figures() throws -> [(name: String, image: Image)] {
        var names: [String] = []
        for run in runs { for n in run.records.lossNames where !names.contains(n) { names.append(n) } }
        let main = names.filter { !Self.isAuxiliary($0) }, aux = names.filter(Self.isAuxiliary)
        var out: [(name: String, image: Image)] = []
        if !main.isEmpty {
            out.append(("losses.png", try grid(title: "Losses", names: main, columns: Swift.min(3, main.count))))
        }
        if !aux.isEmpty {
            out.append(
                (
                    "losses_aux.png",
                    try grid(
                        title: "Losses of auxiliary predictions (decoder layers, encoder, denoising)", names: aux,
                        columns: Swift.min(4, aux.count))
                ))
        }
        if runs.contains(where: { $0.records.steps.contains { $0.values["lr"] != nil } }) {
            out.append(("lr.png", try learningRate().rendered(width: 720, height: 420)))
        }
        if runs.contains(where: { !$0.records.evaluations.isEmpty }) {
            out.append(("coco.png", try coco()))
        }
        return out
    }

    /// A legend line for the whole figure: which colour is which run, and the smoothing.
    var subtitle: String {
        let weight = smoothing.map { String(format: "weight %.3g", $0) } ?? "weight from the number of steps"
        let lines = "thin: every step · thick: exponential moving average (\(weight))"
        return runs.count == 1 ? "\(runs[0].name) · \(lines)" : "\(lines) · one colour per run"
    }

    func grid(title: String, names: [String], columns: Int) throws -> Image {
        let panels = names.map(lossChart)
        return try Figure(title: title, subtitle: subtitle, panels: panels, columns: columns)
            .rendered(panelWidth: 440, panelHeight: 300)
    }

    /// One loss term: per run the raw values (thin, light) and the smoothed ones (thick).
    func lossChart(_ name: String) -> LineChart {
        var series: [LineChart.Series] = []
        var shown: [Double] = []
        for (i, run) in runs.enumerated() {
            let steps = run.records.steps.filter { $0.values[name] != nil }
            guard !steps.isEmpty else { continue }
            let xs = steps.map { Double($0.step) }, raw = steps.map { $0.values[name]! }
            let smooth = Smoothing.exponential(
                raw, weight: smoothing ?? Smoothing.automaticWeight(count: raw.count))
            let color = Color.series(i)
            series.append(
                LineChart.Series(
                    name: runs.count == 1 ? "every step" : nil, points: zip(xs, raw).map { Point($0, $1) },
                    color: color.mixed(with: .white, 0.6), lineWidth: 1))
            series.append(
                LineChart.Series(
                    name: runs.count == 1 ? "smoothed" : run.name, points: zip(xs, smooth).map { Point($0, $1) },
                    color: color, lineWidth: 2.2))
            shown += smooth + Self.central(raw)
        }
        return LineChart(
            title: name, x: Axis("step"), y: Axis("", range: Self.range(shown)), series: series,
            note: series.isEmpty ? "not logged" : nil)
    }

    /// The values between the 1st and 99th percentile: the y range follows them, so that a
    /// few spikes (often the first steps) do not flatten the rest of the curve.
    static func central(_ values: [Double]) -> [Double] {
        let sorted = values.filter(\.isFinite).sorted()
        guard sorted.count >= 20 else { return sorted }
        let lo = sorted[sorted.count / 100], hi = sorted[sorted.count - 1 - sorted.count / 100]
        return sorted.filter { $0 >= lo && $0 <= hi }
    }

    /// A nice range around `values` (nil without values: automatic).
    static func range(_ values: [Double]) -> ClosedRange<Double>? {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return nil }
        return Ticks.niceRange(lo...hi)
    }

    func learningRate() -> LineChart {
        let series = runs.enumerated().compactMap { i, run -> LineChart.Series? in
            let points = run.records.steps.compactMap { s in s.values["lr"].map { Point(Double(s.step), $0) } }
            return points.isEmpty
                ? nil : LineChart.Series(name: runs.count > 1 ? run.name : nil, points: points, color: Color.series(i))
        }
        return LineChart(
            title: "Learning rate", subtitle: runs.count == 1 ? runs[0].name : nil, x: Axis("step"),
            y: Axis("learning rate (default group)"), series: series)
    }

    /// The 12 COCO numbers, one panel each, per evaluation (x: epochs completed).
    func coco() throws -> Image {
        // One epoch axis for every panel, those without values included.
        let epochs = runs.flatMap { $0.records.evaluations.map { Double($0.epoch) } }
        let (first, last) = (epochs.min() ?? 0, epochs.max() ?? 1)
        let pad = Swift.max(0.3, (last - first) * 0.06)
        let epochAxis = Axis("epoch", range: (first - pad)...(last + pad), integerTicks: true)
        let panels: [any Chart] = Self.cocoKeys.map { key, title in
            var series: [LineChart.Series] = []
            for (i, run) in runs.enumerated() {
                // -1 means "no ground truth in this range": a gap, not a value.
                let points = run.records.evaluations.compactMap { e in
                    e.values[key].map { Point(Double(e.epoch), $0 == -1 ? .nan : $0) }
                }
                guard points.contains(where: { $0.y.isFinite }) else { continue }
                series.append(
                    LineChart.Series(
                        name: runs.count > 1 ? run.name : nil, points: points, color: Color.series(i), lineWidth: 2,
                        markers: true))
            }
            // The values' range with a margin (at least 0.02), within [0, 1]: differences between
            // runs stay visible when every value is high.
            let values = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
            var range: ClosedRange<Double>?
            if let lo = values.min(), let hi = values.max() {
                let margin = Swift.max(0.02, (hi - lo) * 0.12)
                range = Swift.max(0, lo - margin)...Swift.min(1, hi + margin)
            }
            // The best evaluation the run marked in this key (its best_*.safetensors).
            let marked = runs.compactMap { run -> String? in
                guard let e = run.records.evaluations.last(where: { $0.best.contains(key) }), let v = e.values[key]
                else { return nil }
                return (runs.count > 1 ? run.name + ": " : "") + String(format: "best epoch %d (%.3f)", e.epoch, v)
            }
            return LineChart(
                title: title, x: epochAxis, y: Axis("", range: range ?? 0...1),
                series: series,
                note: series.isEmpty
                    ? "no ground truth in this range" : marked.isEmpty ? nil : marked.joined(separator: "; "))
        }
        let subtitle = runs.count == 1 ? runs[0].name : "one colour per run"
        return try Figure(title: "COCO evaluation", subtitle: subtitle, panels: panels, columns: 4)
            .rendered(panelWidth: 330, panelHeight: 260)
    }
}
