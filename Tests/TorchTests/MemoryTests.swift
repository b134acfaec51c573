import Foundation
import TestSupport
import Testing
import Torch

/// Resident set size of this process in bytes (Linux /proc).
private func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// DESIGN.md §7: long loops must run in flat memory. A leak of one handle per op
/// (~100 bytes) over 100k ops, or of a loaded file per load, would show here.
/// Resident memory is process-wide, so these run in a process of their own (`make test`
/// runs them with DETR_MEMORY_TESTS=1 after the main suite); inside the parallel suite they skip.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DETR_MEMORY_TESTS"] == "1"))
struct MemoryTests {
    @Test func tensorOpsRunInFlatMemory() {
        let a = Tensor.randn([8, 8])
        func burst(_ n: Int) {
            for _ in 0..<n {
                let b = (a * 2 + 1).relu().sum(dim: 0)
                _ = b.slice(dim: 0, start: 1).floats.count
            }
        }
        burst(5_000)  // warm-up: allocator pools, libtorch caches
        let before = residentBytes()
        burst(100_000)
        let growth = residentBytes() - before
        #expect(growth < 20 << 20, "RSS grew by \(growth >> 20) MiB over 100k ops")
    }

    @Test func repeatedWeightLoadsRunInFlatMemory() throws {
        var sd = StateDict()
        for i in 0..<20 { sd["layer.\(i).weight"] = Tensor.randn([64, 64]) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mem-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors.write(sd, to: url)
        func burst(_ n: Int) throws {
            for _ in 0..<n { _ = try Safetensors.read(contentsOf: url).tensors.count }
        }
        try burst(50)
        let before = residentBytes()
        try burst(1_000)
        let growth = residentBytes() - before
        #expect(growth < 20 << 20, "RSS grew by \(growth >> 20) MiB over 1k loads")
    }
}
