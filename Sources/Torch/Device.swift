import CTorch

/// Where a tensor lives.
public enum Device: Sendable, Equatable, Hashable, CustomStringConvertible {
    case cpu
    case cuda(Int)

    public static var cuda: Device { .cuda(0) }

    /// True when the linked libtorch was built with CUDA and a GPU is visible.
    public static var cudaAvailable: Bool { ct_cuda_available() }

    /// Number of visible CUDA devices (0 without CUDA).
    public static var cudaDeviceCount: Int { Int(ct_cuda_device_count()) }

    var code: (Int32, Int32) {
        switch self {
        case .cpu: (0, 0)
        case .cuda(let i): (1, Int32(i))
        }
    }

    init(code: Int32, index: Int32) {
        self = code == 1 ? .cuda(Int(max(index, 0))) : .cpu
    }

    /// Parses `cpu`, `cuda` or `cuda:N`.
    public init?(_ text: String) {
        if text == "cpu" { self = .cpu; return }
        if text == "cuda" { self = .cuda(0); return }
        if text.hasPrefix("cuda:"), let i = Int(text.dropFirst(5)), i >= 0 { self = .cuda(i); return }
        return nil
    }

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case .cuda(let i): "cuda:\(i)"
        }
    }
}
