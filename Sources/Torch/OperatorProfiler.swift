import CTorch

/// libtorch's operator profiler (Kineto, CPU activities), aggregated per operator.
///
/// Times include everything an operator calls; `selfNanoseconds` excludes the operators nested
/// in it, so self times add up to the profiled wall time of the calling thread.
public enum OperatorProfiler {
    /// One operator (and, when shapes were recorded, one combination of input shapes).
    public struct Row: Sendable, Equatable, Codable {
        public var name: String
        /// Input shapes, e.g. "1x256x200x334;256x256x3x3" ("" unless recorded).
        public var shapes: String
        public var calls: Int
        public var totalNanoseconds: UInt64
        public var selfNanoseconds: UInt64

        enum CodingKeys: String, CodingKey {
            case name, shapes, calls, totalNanoseconds = "total_ns", selfNanoseconds = "self_ns"
        }
    }

    /// Profiles the operators `body` runs on this thread.
    /// - Parameters:
    ///   - recordShapes: one row per input-shape combination instead of one per operator name.
    ///   - tracePath: where to write a Chrome trace (chrome://tracing, Perfetto) as well.
    /// - Returns: `body`'s result and the rows, by self time, longest first.
    /// - Throws: `TorchError.libtorch` when the profiler cannot start (one is already running) or
    ///   the trace cannot be written; errors of `body`.
    public static func profile<R>(
        recordShapes: Bool = false, tracePath: String? = nil,
        _ body: () throws -> R
    ) throws -> (result: R, rows: [Row]) {
        guard ct_profiler_start(recordShapes) else { throw TorchError.libtorch(Torch.lastErrorMessage()) }
        let result: R
        do {
            result = try body()
        } catch {
            _ = ct_profiler_stop(nil)
            throw error
        }
        guard let text = ct_profiler_stop(tracePath) else { throw TorchError.libtorch(Torch.lastErrorMessage()) }
        let rows = String(cString: text).split(separator: "\n").compactMap { line -> Row? in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 5, let calls = Int(f[2]), let total = UInt64(f[3]), let selfNs = UInt64(f[4]) else {
                return nil
            }
            return Row(
                name: String(f[0]), shapes: String(f[1]), calls: calls, totalNanoseconds: total, selfNanoseconds: selfNs
            )
        }
        return (result, rows.sorted { $0.selfNanoseconds > $1.selfNanoseconds })
    }
}
