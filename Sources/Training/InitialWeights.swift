import Detection
import Foundation
import Torch

/// Loading initial weights for fine-tuning: tensors whose shape differs (typically the class
/// head when num_classes changes) keep their fresh initialisation.
public enum InitialWeights {
    /// - Returns: keys left at their initialisation (shape mismatch or absent from the file).
    @discardableResult
    public static func load(_ url: URL, into model: any Detector) throws -> [String] {
        let loaded = try WeightFile.load(url)
        var tensors = DetectorFactory.modelTensors(of: loaded)
        let own = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.key, $0.value.shape) })
        var reinitialised: [String] = []
        for (k, v) in tensors where own[k] != nil && own[k] != v.shape {
            tensors[k] = nil
            reinitialised.append(k)
        }
        let report = try model.load(stateDict: tensors, strict: false, source: url.path)
        return reinitialised + report.missingKeys
    }
}
