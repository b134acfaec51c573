import Diagnostics
import Torch

/// A serialisable optimizer snapshot: tensors (moments, step counts) plus string metadata
/// (hyperparameters), shaped for `Safetensors.write(_:metadata:to:)`.
public struct OptimizerState {
    public var tensors: StateDict
    public var metadata: [String: String]

    public init(tensors: StateDict, metadata: [String: String]) {
        self.tensors = tensors
        self.metadata = metadata
    }
}

/// An optimizer snapshot that cannot be restored into this optimizer.
public struct OptimizerStateError: SubjectError, Equatable {
    /// What does not fit, without the common start.
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var subject: String? { nil }
    public var problem: String { "optimizer state cannot be restored: \(reason)" }
}
