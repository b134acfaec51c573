import Detection
import Foundation
import Torch

/// The body of GET /v1/model: what the service runs.
struct ModelDescription: Encodable {
    /// The config's architecture, the device the model runs on and its precision (fp32, bf16, fp16).
    var architecture, device, precision: String
    /// The config as given (a preset name or a file path).
    var configName: String
    /// The full config, with the keys of a JSON config file.
    var config: ModelConfig
    var classNames: [String]
    var engine: Engine
    var batching: Batching

    struct Batching: Encodable {
        var maxBatch: Int
        var maxWaitMs: Double
        var queue: Int
        var grouping: String
    }
}
