import Torch

extension OperationTrace {
    /// Declares every parameter and buffer of `module` as a weight under its state-dict key.
    public func addInitializers(of module: any Module) {
        for (key, tensor) in module.namedParameters() + module.namedBuffers() {
            addInitializer(tensor, name: key)
        }
    }
}
