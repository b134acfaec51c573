import Foundation
import Testing
import Torch

/// Opt-in timings of the fused kernel against the grid_sample composition at the R50 shapes of
/// an 800x1333 image (`DETR_BENCH=1`; run a release build, see Benchmarks/msda/RESULTS.md).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DETR_BENCH"] == "1", "set DETR_BENCH=1"))
struct MSDeformAttnBenchmark {
    /// Stride 8, 16, 32, 64 feature maps of an 800x1333 input (S = 22223).
    static let levels = [(100, 167), (50, 84), (25, 42), (13, 21)]
    static let encoderQueries = levels.reduce(0) { $0 + $1.0 * $1.1 }

    /// [1, Q, 8, L, 4, 2]: reference point + N(0, 2 px) offsets per level.
    static func localLocations(queries: Int, encoder: Bool) -> Tensor {
        let g = Generator(seed: 13)
        let reference: Tensor  // [1, Q, 1, 1, 1, 2] (x, y) in [0, 1]
        if encoder {
            var xy: [Float] = []
            xy.reserveCapacity(2 * queries)
            for (h, w) in levels {
                for i in 0..<h { for j in 0..<w { xy += [(Float(j) + 0.5) / Float(w), (Float(i) + 0.5) / Float(h)] } }
            }
            reference = Tensor(xy, shape: [1, queries, 1, 1, 1, 2])
        } else {
            reference = Tensor.rand([1, queries, 1, 1, 1, 2], generator: g)
        }
        let pixel = Tensor(
            levels.flatMap { [1 / Float($0.1), 1 / Float($0.0)] }, shape: [1, 1, 1, levels.count, 1, 2])
        return reference + Tensor.randn([1, queries, 8, levels.count, 4, 2], generator: g) * 2 * pixel
    }

    /// Best wall time over `runs` after one warm-up, in milliseconds.
    static func time(runs: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<runs {
            let start = ContinuousClock.now
            body()
            let elapsed = ContinuousClock.now - start
            let ms = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15
            best = min(best, ms)
        }
        return best
    }

    /// Encoder: one query per feature pixel (Q = S); decoder: 900 queries.
    /// `local`: each query samples within a few pixels of a reference point (as trained models
    /// do: the encoder's reference is the query's own pixel centre, the decoder's a random box
    /// centre); `uniform`: anywhere on the maps (cache-unfriendly worst case).
    @Test func header() {
        print(
            """
            MSDA_BENCH threads=\(Torch.numThreads) B=1 H=8 D=32 L=4 P=4 S=\(Self.encoderQueries), best of 5 (Q=S) or \
            20 (Q=900)
            """
        )
    }

    @Test(arguments: [
        ("encoder", encoderQueries, true), ("decoder", 900, true),
        ("encoder", encoderQueries, false), ("decoder", 900, false),
    ])
    func fusedVersusGridSample(_ stage: String, _ queries: Int, _ local: Bool) {
        var x = MSDAInputs(
            batch: 1, queries: queries, heads: 8, dim: 32, levels: Self.levels, points: 4,
            margin: 0.05, seed: 11)
        if local { x.locations = Self.localLocations(queries: queries, encoder: stage == "encoder") }
        let name = "\(stage) \(local ? "local" : "uniform")"
        let upstream = Tensor.randn([1, queries, 256], generator: Generator(seed: 12))
        let runs = queries > 1000 ? 5 : 20

        func forward(_ f: @escaping () -> Tensor) -> Double {
            Self.time(runs: runs) { withNoGrad { _ = f() } }
        }
        func forwardBackward(_ f: @escaping (Tensor, Tensor, Tensor) -> Tensor) -> Double {
            Self.time(runs: runs) {
                let v = x.value.detach().requiringGrad(), l = x.locations.detach().requiringGrad()
                let w = x.weights.detach().requiringGrad()
                _ = gradients(of: [(f(v, l, w) * upstream).sum()], withRespectTo: [v, l, w])
            }
        }
        let gsF = forward { x.gridSample() }
        let fuF = forward { x.fused() }
        let gsFB = forwardBackward { x.gridSample($0, $1, $2) }
        let fuFB = forwardBackward { x.fused($0, $1, $2) }
        func row(_ what: String, _ gs: Double, _ fu: Double) -> String {
            "MSDA_BENCH \(name) Q=\(queries) \(what): grid_sample "
                + String(format: "%.1f ms, fused %.1f ms, speed-up %.2fx", gs, fu, gs / fu)
        }
        print(row("forward", gsF, fuF))
        print(row("forward+backward", gsFB, fuFB))
        #expect(gsF / fuF >= 2, "fused forward should be at least 2x faster than grid_sample")
    }
}
