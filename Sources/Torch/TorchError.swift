// FileError and SubjectError, the shapes of every module's errors, come with Torch.
@_exported import Diagnostics

/// Errors surfaced by the Torch layer.
public enum TorchError: SubjectError, Equatable {
    /// libtorch threw; the payload is its message.
    case libtorch(String)
    /// A value the caller passed cannot be used (wrong count, unknown name...).
    case invalidArgument(String)
    /// A requested device is not available in this build or machine.
    case deviceUnavailable(String)

    public var subject: String? { nil }

    public var problem: String {
        switch self {
        case .libtorch(let m): "libtorch: \(m)"
        case .invalidArgument(let m): m
        case .deviceUnavailable(let m): m
        }
    }
}
