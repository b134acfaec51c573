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
        try DetectorFactory.load(config: config, weights: weights, device: device)
    }
}
