import Foundation
import Testing
import Torch

@Suite struct EngineTests {
    /// The CPU features come from libtorch's cpuinfo; on Linux they agree with the kernel's flags
    /// for the instruction sets every kernel of the last years names, and the bf16 path follows
    /// them.
    @Test func cpuFeaturesAndTheBF16Path() throws {
        let engine = Engine.current
        #expect(Set(engine.cpuFeatures).isSubset(of: Engine.precisionFeatures))
        #expect(engine.summary.contains("bf16 \(engine.bf16Path)"))
        #if arch(x86_64) && os(Linux)
            let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
            let line = try #require(info.split(separator: "\n").first { $0.hasPrefix("flags") })
            let flags = Set(line.split(separator: ":").last!.split(separator: " ").map(String.init))
            for (feature, flag) in [("avx2", "avx2"), ("avx512_f", "avx512f"), ("avx512_bf16", "avx512_bf16")] {
                #expect(engine.cpuFeatures.contains(feature) == flags.contains(flag), "\(feature)")
            }
            #expect(engine.cpuName != nil)
        #endif
        func path(_ features: [String]) -> String {
            Engine(
                config: "", cpuCapability: "AVX512", compiledAgainst: "2.13.0", threads: 1, cudaAvailable: false,
                cpuFeatures: features
            ).bf16Path
        }
        #expect(path(["avx2", "avx512_f"]) == "emulated")
        #expect(path(["avx512_f", "avx512_bf16"]) == "AVX512_BF16")
        #expect(path(["avx512_bf16", "amx_tile", "amx_bf16"]) == "AMX")
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(engine)) as? [String: Any]
        #expect(json?["cpu_features"] is [String])
    }
}
