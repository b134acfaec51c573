import Diagnostics
import Foundation

extension ModelConfig {
    /// The built-in configurations of the official releases, by name, in the order help texts
    /// list them.
    static let presets: [(name: String, config: @Sendable () -> ModelConfig)] = [
        ("salience-detr-r50", { ModelConfig(architecture: .salienceDetr) }),
        (
            "salience-detr-r50-5scale",
            {
                var c = ModelConfig(architecture: .salienceDetr)
                c.backbone.returnIndices = [0, 1, 2, 3]
                c.salience?.maxNumEmbedding = 500
                return c
            }
        ),
        // The official -L configs differ from R50 only in the backbone (its settings default to the
        // -L values); the ChannelMapper's input channels follow from it.
        ("salience-detr-swin-l", { salience(backbone: .swin) }),
        ("salience-detr-convnext-l", { salience(backbone: .convnext) }),
        ("salience-detr-focalnet-l", { salience(backbone: .focalnet) }),
        ("conditional-detr-r50", { conditional(layers: [3, 4, 6, 3], dilation: false) }),
        ("conditional-detr-r50-dc5", { conditional(layers: [3, 4, 6, 3], dilation: true) }),
        ("conditional-detr-r101", { conditional(layers: [3, 4, 23, 3], dilation: false) }),
        ("conditional-detr-r101-dc5", { conditional(layers: [3, 4, 23, 3], dilation: true) }),
    ]

    private static func salience(backbone type: BackboneType) -> ModelConfig {
        var c = ModelConfig(architecture: .salienceDetr)
        c.backbone.type = type
        return c
    }

    private static func conditional(layers: [Int], dilation: Bool) -> ModelConfig {
        var c = ModelConfig(architecture: .conditionalDetr)
        c.backbone.layers = layers
        c.backbone.dilation = dilation
        return c
    }

    /// Names of the built-in configurations of the official releases.
    public static var presetNames: [String] { presets.map(\.name) }

    /// A built-in configuration by name, nil when unknown.
    public static func preset(_ name: String) -> ModelConfig? {
        presets.first { $0.name == name }?.config()
    }

    /// A preset name or the path of a JSON config file.
    public static func load(presetOrPath: String) throws -> ModelConfig {
        if let p = preset(presetOrPath) { return p }
        let url = URL(fileURLWithPath: presetOrPath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ConfigError(
                source: presetOrPath,
                problem: "is neither a preset (\(presetNames.joined(separator: ", "))) nor an existing file")
        }
        return try load(contentsOf: url)
    }

    /// Reads a JSON config file (schema of CONFIG.md); unknown keys are errors naming the key.
    public static func load(contentsOf url: URL) throws -> ModelConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError(source: url.path, problem: "cannot be read")
        }
        do {
            var config = try JSONDecoder().decode(ModelConfig.self, from: data)
            if let path = config.backbone.weights, !path.hasPrefix("/") {
                config.backbone.weights = url.deletingLastPathComponent().appendingPathComponent(path).path
            }
            return config
        } catch let e as ConfigError {
            throw ConfigError(source: url.path, problem: e.problem)
        } catch let DecodingError.dataCorrupted(ctx) {
            throw ConfigError(source: url.path, problem: "invalid JSON (\(ctx.debugDescription))")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ConfigError(
                source: url.path,
                problem: "\(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)")
        } catch {
            throw ConfigError(source: url.path, problem: "\(error)")
        }
    }

    /// Pretty JSON in the file schema.
    public func jsonData() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(self)
    }
}

/// A configuration that cannot be used: names its source (file or preset) and the problem.
public struct ConfigError: SubjectError, Equatable {
    /// The config file or preset name ("" while decoding, before the source is known).
    public var source: String
    public var problem: String

    public init(source: String, problem: String) {
        self.source = source
        self.problem = problem
    }

    public var subject: String? { source.isEmpty ? nil : source }
}
