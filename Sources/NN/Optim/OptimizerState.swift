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
public struct OptimizerStateError: Error, CustomStringConvertible, Equatable {
    public var problem: String
    public init(_ problem: String) { self.problem = problem }
    public var description: String { "optimizer state cannot be restored: \(problem)" }
}
