import CTorch

/// What does the arithmetic: the libtorch this process runs on, as that library describes itself.
///
/// Read at run time from the loaded libtorch (`at::show_config()`), so a binary run against
/// another libtorch build (a GPU machine's) reports that build, not the one it was compiled with.
public struct Engine: Sendable, Equatable, Codable {
    /// libtorch version of the loaded library (`TORCH_VERSION` of its build settings).
    public var libtorchVersion: String
    /// libtorch version of the headers the C shim was compiled against.
    public var compiledAgainst: String
    /// BLAS the library was built with (`BLAS_INFO`, e.g. "mkl", "open").
    public var blas: String
    /// Math Kernel Library version line, when built with MKL.
    public var mkl: String?
    /// oneDNN (MKL-DNN) version line, when built with it.
    public var oneDNN: String?
    /// OpenMP line, when built with OpenMP.
    public var openMP: String?
    /// The CPU instruction set libtorch's own kernels dispatch to ("AVX512", "AVX2", "DEFAULT").
    public var cpuCapability: String
    /// Intra-op threads.
    public var threads: Int
    /// True when the library has CUDA and a GPU is visible.
    public var cudaAvailable: Bool
    /// The CPU's name as libtorch's cpuinfo reads it.
    public var cpuName: String?
    /// Which of the instruction sets that decide the reduced-precision paths the CPU has, of
    /// `Engine.precisionFeatures`.
    public var cpuFeatures: [String]

    /// The CPU features that `cpuFeatures` reports: where float32, bfloat16 and float16 products
    /// run natively.
    public static let precisionFeatures = [
        "avx2", "avx512_f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_fp16",
    ]

    enum CodingKeys: String, CodingKey {
        case libtorchVersion = "libtorch", compiledAgainst = "compiled_against", blas, mkl
        case oneDNN = "onednn", openMP = "openmp", cpuCapability = "cpu_capability", threads
        case cudaAvailable = "cuda_available", cpuName = "cpu_name", cpuFeatures = "cpu_features"
    }

    /// The engine of this process.
    public static var current: Engine {
        let config = String(cString: ct_engine_config())
        let cpu = String(cString: ct_engine_cpu_features()).split(separator: "\n", omittingEmptySubsequences: false)
        let features = Set((cpu.first ?? "").split(separator: " ").map(String.init))
        return Engine(
            config: config, cpuCapability: String(cString: ct_engine_cpu_capability()),
            compiledAgainst: String(cString: ct_engine_compiled_version()),
            threads: Torch.numThreads, cudaAvailable: Device.cudaAvailable,
            cpuName: cpu.count > 1 && !cpu[1].isEmpty ? String(cpu[1]) : nil,
            cpuFeatures: precisionFeatures.filter(features.contains))
    }

    /// How this CPU multiplies in bfloat16: "AMX" or "AVX512_BF16" where it has the instructions,
    /// else "emulated" (oneDNN converts to float32 inside its kernels: slower than fp32).
    public var bf16Path: String {
        cpuFeatures.contains("amx_bf16") ? "AMX" : cpuFeatures.contains("avx512_bf16") ? "AVX512_BF16" : "emulated"
    }

    /// Parses the text of `at::show_config()`: lines "  - NAME ..." for the libraries and one
    /// "  - Build settings: KEY=VALUE, KEY=VALUE, ..." line.
    public init(
        config: String, cpuCapability: String, compiledAgainst: String, threads: Int, cudaAvailable: Bool,
        cpuName: String? = nil, cpuFeatures: [String] = []
    ) {
        var settings: [String: String] = [:]
        var mkl: String?, oneDNN: String?, openMP: String?
        for raw in config.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: " -")
            if line.hasPrefix("Build settings:") {
                for item in line.dropFirst("Build settings:".count).split(separator: ",") {
                    let kv = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " ") }
                    if kv.count == 2 { settings[kv[0]] = kv[1] }
                }
            } else if line.contains("Math Kernel Library") {
                mkl = line
            } else if line.contains("MKL-DNN") || line.contains("oneDNN") {
                oneDNN = line
            } else if line.hasPrefix("OpenMP") {
                openMP = line
            }
        }
        self.libtorchVersion = settings["TORCH_VERSION"] ?? compiledAgainst
        self.compiledAgainst = compiledAgainst
        self.blas = settings["BLAS_INFO"] ?? "unknown"
        self.mkl = mkl
        self.oneDNN = oneDNN
        self.openMP = openMP
        self.cpuCapability = cpuCapability.isEmpty ? "unknown" : cpuCapability
        self.threads = threads
        self.cudaAvailable = cudaAvailable
        self.cpuName = cpuName
        self.cpuFeatures = cpuFeatures
    }

    /// One line for people: "libtorch 2.13.0, BLAS mkl, oneDNN v3.x, CPU AVX512 (name), bf16 emulated,
    /// 2 threads".
    public var summary: String {
        var parts = ["libtorch \(libtorchVersion)"]
        if compiledAgainst != libtorchVersion { parts[0] += " (compiled against \(compiledAgainst))" }
        parts.append("BLAS \(blas)")
        if let oneDNN, let v = oneDNN.split(separator: " ").first(where: { $0.hasPrefix("v") }) {
            parts.append("oneDNN \(v)")
        }
        var cpu = "CPU \(cpuCapability)"
        if let cpuName { cpu += " (\(cpuName))" }
        parts.append(cpu)
        parts.append("bf16 \(bf16Path)")
        parts.append("\(threads) thread\(threads == 1 ? "" : "s")")
        if cudaAvailable { parts.append("CUDA") }
        return parts.joined(separator: ", ")
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self[...]
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
