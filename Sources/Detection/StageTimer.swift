import Foundation
import Torch

/// Collects wall time per named stage of a forward pass (`detr benchmark --breakdown`).
/// Stages run sequentially on the calling thread; libtorch CPU ops are synchronous, so the
/// time spent inside `measure` is the stage's compute time.
public final class StageTimer: @unchecked Sendable {
    public private(set) var totals: [String: Double] = [:]
    public private(set) var order: [String] = []

    public init() {}

    /// Runs `body`, adding its duration to `stage`.
    public func measure<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        try OperationTrace.labeled(stage) { try timed(stage, body) }
    }

    private func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if totals[stage] == nil { order.append(stage) }
            totals[stage, default: 0] += s
        }
        return try body()
    }

    public func reset() {
        totals = [:]
        order = []
    }
}

extension Optional where Wrapped == StageTimer {
    /// `timer?.measure` that still runs `body` without a timer.
    @inline(__always) func measure<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        if let t = self { return try t.measure(stage, body) }
        // A recording labels the stage's operators (`OperationTrace.multiplyAdds`).
        return try OperationTrace.labeled(stage, body)
    }
}
