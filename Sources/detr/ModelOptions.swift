import ArgumentParser
import Detection
import Foundation
import NN
import Torch

/// Options naming a model: config, weights, device and precision.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A preset (\(ModelConfig.presetNames.joined(separator: ", "))) or a JSON config file.")
    var config: String

    @Option(
        name: .long, help: "Weights: an official .pth checkpoint (state dict or training checkpoint) or .safetensors.")
    var weights: String

    @Option(name: .long, help: "cpu or cuda[:N].")
    var device: Device = .cpu

    @Option(
        help: """
            fp32, or mixed precision bf16/fp16 (libtorch autocast: matmul, linear and convolution in \
            bfloat16/float16, the rest and the post-processing in float32).
            """)
    var precision: Precision = .fp32

    /// The configured detector with its weights loaded (errors name the file and the problem).
    func loadDetector() throws -> any Detector { try loadDetectorAndNames().detector }

    /// The detector and its class names (from the checkpoint when it stores them).
    func loadDetectorAndNames() throws -> (detector: any Detector, names: [String]) {
        try DetectorFactory.load(config: config, weights: weights, device: device)
    }
}
