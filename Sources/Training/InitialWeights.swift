import Detection
import Diagnostics
import Foundation
import NN
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

    /// Loads a backbone's published ImageNet classification weights (torchvision's ResNet and
    /// ConvNeXt files, the Swin and FocalNet releases the official configs name) as the official
    /// backbones load them: the file's own keys (under `model` or `state_dict` when it nests them)
    /// go to the module at `model.recipe.publishedBackboneRoot`; entries that module lacks (the
    /// classifier head, the final norm, batch-norm counters) or whose shape differs are not used.
    /// A detector checkpoint (keys under that prefix, e.g. `backbone.0.body.conv1.weight`) gives
    /// its backbone the same way, so one detector's backbone can start another's training.
    /// - Throws: `FileError` when no tensor of the file fits the backbone (another family or
    ///   size, or not a backbone file), weight-file errors naming the file
    public static func loadBackbone(_ url: URL, into model: any Detector) throws -> BackboneWeightsReport {
        let recipe = model.modelConfig.recipe
        let root = recipe.publishedBackboneRoot
        var file = DetectorFactory.modelTensors(of: try WeightFile.load(url))
        if !root.isEmpty, file.keys.contains(where: { $0.hasPrefix(root) }) { file = file.stripping(prefix: root) }
        let own = model.stateDict()
        var fitting = StateDict()
        var unused: [String] = []
        var mismatched: [String] = []
        for (key, tensor) in file {
            guard let target = own[root + key] else {
                unused.append(key)
                continue
            }
            if target.shape == tensor.shape {
                fitting[root + key] = tensor
            } else {
                mismatched.append("\(key) \(tensor.shape) (model \(target.shape))")
            }
        }
        let backbone = model.modelConfig.backbone.type.rawValue
        guard !fitting.isEmpty else {
            let example = own.keys.first { $0.hasPrefix(root) }.map { " (keys like '\($0.dropFirst(root.count))')" }
            throw FileError(
                file: url.path,
                problem: """
                    no tensor fits the \(backbone) backbone of this config\(example ?? ""): \
                    \(mismatched.isEmpty ? "not a \(backbone) weight file" : "\(mismatched.count) shapes differ, e.g. \(mismatched[0])")
                    """)
        }
        try model.load(stateDict: fitting, strict: false, source: url.path)
        let left = own.keys.filter { $0.hasPrefix(recipe.backbonePrefix) && !fitting.contains($0) }
        return BackboneWeightsReport(
            file: url.path, root: root, loaded: fitting.count, unused: unused, shapeMismatches: mismatched,
            leftInitialised: left)
    }
}

/// What `InitialWeights.loadBackbone` filled and left.
public struct BackboneWeightsReport: Equatable, Sendable {
    public var file: String
    /// The state-dict prefix the file's keys were put under.
    public var root: String
    /// Tensors copied into the model.
    public var loaded: Int
    /// Keys of the file the model has no tensor for.
    public var unused: [String]
    /// Entries of the file whose shape differs from the model's ("key [file] (model [model])").
    public var shapeMismatches: [String]
    /// Backbone tensors of the model (under the whole backbone's prefix) the file did not fill.
    public var leftInitialised: [String]

    /// One line: what was loaded where, what of the file was not used, what stays initialised.
    public var summary: String {
        func names(_ keys: [String]) -> String {
            keys.isEmpty ? "none" : "\(keys.count) (\(keys.prefix(4).joined(separator: ", "))\(keys.count > 4 ? ", ..." : ""))"
        }
        var line = "backbone weights \(file): \(loaded) tensors into \(root.isEmpty ? "the model" : String(root.dropLast()))"
        line += "; unused entries of the file: \(names(unused))"
        if !shapeMismatches.isEmpty { line += "; shapes differ: \(names(shapeMismatches))" }
        line += "; left at initialisation: \(names(leftInitialised))"
        return line
    }
}
