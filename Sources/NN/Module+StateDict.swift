import Torch

extension Module {
    /// Parameters and persistent buffers with keys relative to this module, in PyTorch's order
    /// (`state_dict()`). Values are detached and share storage with the module's tensors.
    public func stateDict() -> StateDict {
        var out = StateDict()
        for e in storeEntries where e.kind != .buffer(persistent: false) {
            out[relativeKey(e)] = e.tensor.detach()
        }
        return out
    }

    /// Copies a state dict into this module's tensors in place (under no-grad), casting dtype
    /// (a float16 checkpoint is upcast to the module's float32) and moving device as needed.
    ///
    /// All keys are checked before anything is copied: when the state dict does not fit, the
    /// module is left unchanged and one `StateDictLoadError` lists every missing key, unexpected
    /// key and shape mismatch.
    /// - Parameters:
    ///   - stateDict: keys relative to this module (use `StateDict.stripping(prefix:)` for a
    ///     sub-tree of a bigger checkpoint).
    ///   - strict: when false, missing and unexpected keys are tolerated (reported in the result);
    ///     shape mismatches are always an error.
    ///   - source: names the checkpoint in error messages.
    /// - Returns: the keys that were skipped (empty lists in strict mode).
    @discardableResult
    public func load(
        stateDict: StateDict, strict: Bool = true, source: String = ""
    ) throws
        -> StateDictLoadReport
    {
        let store = path.store
        let prefix = path.components.isEmpty ? "" : path.key + "."
        var missing: [String] = []
        var mismatches: [StateDictLoadError.ShapeMismatch] = []
        var pairs: [(Tensor, Tensor)] = []
        var used = Set<String>()
        for e in storeEntries where e.kind != .buffer(persistent: false) {
            let key = relativeKey(e)
            guard let src = stateDict[key] else {
                if e.requiredOnLoad { missing.append(key) }
                continue
            }
            used.insert(key)
            if src.shape != e.tensor.shape {
                mismatches.append(.init(key: key, checkpoint: src.shape, model: e.tensor.shape))
            } else {
                pairs.append((e.tensor, src))
            }
        }
        let unexpected = stateDict.keys.filter { !used.contains($0) && !store.isIgnoredOnLoad(prefix + $0) }
        if !mismatches.isEmpty || (strict && !(missing.isEmpty && unexpected.isEmpty)) {
            throw StateDictLoadError(
                missingKeys: missing, unexpectedKeys: unexpected, shapeMismatches: mismatches,
                source: source)
        }
        try Torch.catching {
            withNoGrad {
                for (dst, src) in pairs { dst.copy_(src) }
            }
        }
        return StateDictLoadReport(missingKeys: missing, unexpectedKeys: unexpected)
    }
}
