import ArgumentParser
import Detection
import Foundation
import NN
import Torch

/// Options naming a model: config, weights and device.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A preset (\(ModelConfig.presetNames.joined(separator: ", "))) or a JSON config file.")
    var config: String

    @Option(
        name: .long, help: "Weights: an official .pth checkpoint (state dict or training checkpoint) or .safetensors.")
    var weights: String

    @Option(name: .long, help: "cpu or cuda[:N].")
    var device: Device = .cpu

    /// The configured detector with its weights loaded (errors name the file and the problem).
    func loadDetector() throws -> any Detector { try loadDetectorAndNames().detector }

    /// The detector and its class names (from the checkpoint when it stores them).
    func loadDetectorAndNames() throws -> (detector: any Detector, names: [String]) {
        let cfg = try ModelConfig.load(presetOrPath: config)
        let store = try ParameterStore(dtype: .float32, device: device)
        let model = try DetectorFactory.make(config: cfg, store: store)
        guard FileManager.default.fileExists(atPath: weights) else {
            throw FileError(file: weights, problem: "no such file")
        }
        let loaded = try DetectorFactory.loadWeights(URL(fileURLWithPath: weights), into: model)
        return (model, COCOClassNames.names(from: loaded, numClasses: cfg.numClasses))
    }
}
