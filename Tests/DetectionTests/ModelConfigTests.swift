import Detection
import Foundation
import TestSupport
import Testing

@Suite struct ModelConfigTests {
    /// Every key of a fixture config is read: the loaded config has the file's values, and encoding
    /// it again gives every key of the file with its value.
    @Test(.needsFixtures, arguments: ["conditional_detr", "salience_detr"])
    func fixtureConfigsLoadUnchanged(dir: String) throws {
        let url = try TestSupport.fixtures("\(dir)/tiny.config.json")
        let file = try TestSupport.fixtureJSON("\(dir)/tiny.config.json")
        let c = try ModelConfig.load(contentsOf: url)
        #expect(c.architecture.rawValue == dir)
        #expect(c.architecture.rawValue == file["architecture"] as? String)
        func value<T>(_ path: String, as _: T.Type) throws -> T {
            let keys = path.split(separator: ".").map(String.init)
            var object: Any? = file
            for k in keys { object = (object as? [String: Any])?[k] }
            return try #require(object as? T, "\(dir)/tiny.config.json has no \(T.self) at \(path)")
        }
        #expect(c.hiddenDim == (try value(dir == "salience_detr" ? "embed_dim" : "hidden_dim", as: Int.self)))
        #expect(c.numQueries == (try value("num_queries", as: Int.self)))
        #expect(c.numDecoderLayers == (try value("num_decoder_layers", as: Int.self)))
        #expect(c.backbone.layers == (try value("backbone.layers", as: [Int].self)))
        #expect(c.minSize == (try value("min_size", as: Int.self)))
        #expect(c.maxSize == (try value("max_size", as: Int.self)))
        if dir == "salience_detr" {
            #expect(c.salience?.topkSA == (try value("topk_sa", as: Int.self)))
            #expect(c.salience?.denoising.num == (try value("denoising.num", as: Int.self)))
            #expect(c.positionEmbedding.offset == (try value("position_embedding.offset", as: Double.self)))
        } else {
            #expect(c.numEncoderLayers == (try value("num_encoder_layers", as: Int.self)))
            #expect(c.dropout == (try value("dropout", as: Double.self)))
        }
        let encoded = try #require(try JSONSerialization.jsonObject(with: c.jsonData()) as? [String: Any])
        for (path, value) in Self.leaves(file) {
            #expect(Self.leaves(encoded)[path] == value, "\(dir): \(path)")
        }
        // Round trip through our own encoder.
        let again = try JSONDecoder().decode(ModelConfig.self, from: c.jsonData())
        #expect(again == c)
    }

    /// The scalar values of a JSON object by dotted key path (arrays indexed), as text: numbers
    /// (and booleans, which JSONSerialization also gives as NSNumber) as doubles, so `1` and `1.0`
    /// compare equal.
    static func leaves(_ value: Any, _ path: String = "") -> [String: String] {
        switch value {
        case let object as [String: Any]:
            return object.reduce(into: [:]) {
                $0.merge(leaves($1.value, path.isEmpty ? $1.key : "\(path).\($1.key)")) { a, _ in a }
            }
        case let array as [Any]:
            return array.enumerated().reduce(into: [:]) {
                $0.merge(leaves($1.element, "\(path).\($1.offset)")) { a, _ in a }
            }
        case let number as NSNumber:
            return [path: "\(number.doubleValue)"]
        default:
            return [path: "\(value)"]
        }
    }

    @Test func presetsHaveOfficialValues() throws {
        let s = try #require(ModelConfig.preset("salience-detr-r50"))
        #expect(s.numQueries == 900 && s.numSelect == 300 && s.hiddenDim == 256 && s.salience?.topkSA == 300)
        let s5 = try #require(ModelConfig.preset("salience-detr-r50-5scale"))
        #expect(
            s5.backbone.returnIndices == [0, 1, 2, 3] && s5.salience?.maxNumEmbedding == 500
                && s5.salience?.numFeatureLevels == 4)
        let c = try #require(ModelConfig.preset("conditional-detr-r101-dc5"))
        #expect(c.backbone.layers == [3, 4, 23, 3] && c.backbone.dilation && c.numQueries == 300 && c.dropout == 0.1)
        for name in ModelConfig.presetNames { #expect(ModelConfig.preset(name) != nil) }
        #expect(ModelConfig.preset("yolo") == nil)
    }

    /// Every preset and every config file of the repository survives our own encoding unchanged,
    /// holds its architecture's config type, and writes the width under its architecture's key.
    @Test func presetsAndRepositoryConfigsRoundTrip() throws {
        var configs = ModelConfig.presetNames.map { ($0, ModelConfig.preset($0)!) }
        for path in [
            "demo/shapes-salience.json", "Benchmarks/training/shapes-conditional.json",
            "Benchmarks/training/shapes-conditional-128.json", "Tests/Fixtures/salience-wide/tiny.config.json",
        ] {
            configs.append((path, try ModelConfig.load(contentsOf: TestSupport.repoRoot.appendingPathComponent(path))))
        }
        for (name, config) in configs {
            let data = try config.jsonData()
            #expect(try JSONDecoder().decode(ModelConfig.self, from: data) == config, "\(name)")
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            switch config {
            case .salienceDetr(let s):
                #expect(config.architecture == .salienceDetr && object["embed_dim"] as? Int == s.hiddenDim, "\(name)")
                #expect(object["hidden_dim"] == nil && object["topk_sa"] as? Int == s.topkSA, "\(name)")
            case .conditionalDetr(let c):
                #expect(
                    config.architecture == .conditionalDetr && object["hidden_dim"] as? Int == c.hiddenDim, "\(name)")
                #expect(object["embed_dim"] == nil && object["aux_loss"] as? Bool == c.auxLoss, "\(name)")
            }
            #expect(ModelConfig(architecture: config.architecture).architecture == config.architecture)
        }
    }

    private func decode(_ json: String) throws -> ModelConfig {
        try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8))
    }

    @Test func missingKeysTakeOfficialDefaults() throws {
        let c = try decode(#"{"architecture": "conditional_detr", "num_classes": 3}"#)
        #expect(c.numClasses == 3 && c.numQueries == 300 && c.hiddenDim == 256)
    }

    @Test func unknownAndForeignKeysAreNamed() {
        #expect(throws: ConfigError(source: "", problem: "unknown key 'embed_dim' for conditional_detr")) {
            try decode(#"{"architecture": "conditional_detr", "embed_dim": 64}"#)
        }
        #expect(
            throws: ConfigError(
                source: "", problem: "unknown key 'backbone.dilation' for salience_detr backbone (resnet)")
        ) {
            try decode(#"{"architecture": "salience_detr", "backbone": {"dilation": true}}"#)
        }
        #expect(throws: ConfigError.self) { try decode(#"{"architecture": "salience_detr", "num_queries": "many"}"#) }
        #expect(throws: ConfigError.self) { try decode(#"{"num_queries": 3}"#) }
    }

    /// Unknown backbone types list the valid ones; each type takes only its own keys; Conditional
    /// DETR takes only ResNets.
    @Test func backboneTypesAndTheirKeys() throws {
        #expect(throws: ConfigError.self) {
            try decode(#"{"architecture": "salience_detr", "backbone": {"type": "swin_l"}}"#)
        }
        do {
            _ = try decode(#"{"architecture": "salience_detr", "backbone": {"type": "swin_l"}}"#)
        } catch {
            #expect("\(error)".contains("'swin_l'") && "\(error)".contains("'focalnet'"), "\(error)")
        }
        #expect(
            throws: ConfigError(source: "", problem: "unknown key 'backbone.block' for salience_detr backbone (swin)")
        ) {
            try decode(#"{"architecture": "salience_detr", "backbone": {"type": "swin", "block": "basic"}}"#)
        }
        #expect(throws: ConfigError.self) {
            try decode(#"{"architecture": "conditional_detr", "backbone": {"type": "convnext"}}"#)
        }
        let c = try decode(
            #"{"architecture": "salience_detr", "backbone": {"type": "convnext", "depths": [1, 1, 2, 1]}}"#)
        #expect(c.backbone.type == .convnext && c.backbone.convnext.depths == [1, 1, 2, 1])
        #expect(c.backbone.convnext.channels == [192, 384, 768, 1536], "omitted keys take the official -L values")
        let again = try JSONDecoder().decode(ModelConfig.self, from: try JSONEncoder().encode(c))
        #expect(again == c, "encodes and decodes to the same config")
        #expect(throws: ConfigError.self) {
            var bad = c
            bad.backbone.convnext.depths = [1, 1, 1]
            try bad.validate()
        }
    }

    @Test func fileErrorsNameTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json")
        try Data(#"{"architecture": "salience_detr", "bogus": 1}"#.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: ConfigError(source: url.path, problem: "unknown key 'bogus' for salience_detr")) {
            try ModelConfig.load(presetOrPath: url.path)
        }
        #expect(throws: ConfigError.self) { try ModelConfig.load(presetOrPath: "/no/such/config.json") }
    }

    /// `"num_classes": "auto"` decodes to a config that says so, encodes back to "auto", and no
    /// model is built from it (only training resolves it).
    @Test func numClassesAutoWaitsForTheDataset() throws {
        let c = try decode(#"{"architecture": "conditional_detr", "num_classes": "auto"}"#)
        #expect(c.numClassesFromDataset)
        let json = try #require(try JSONSerialization.jsonObject(with: try c.jsonData()) as? [String: Any])
        #expect(json["num_classes"] as? String == "auto")
        #expect(try JSONDecoder().decode(ModelConfig.self, from: try c.jsonData()) == c)
        #expect(throws: ConfigError.self) { try DetectorFactory.make(config: c) }
        var resolved = c
        resolved.numClasses = 4
        resolved.numClassesFromDataset = false
        let again = try #require(try JSONSerialization.jsonObject(with: try resolved.jsonData()) as? [String: Any])
        #expect(again["num_classes"] as? Int == 4)
        #expect(throws: ConfigError.self) { try decode(#"{"architecture": "salience_detr", "num_classes": "many"}"#) }
    }

    /// `backbone.weights` is kept as written when absolute, resolved against the config file's
    /// folder when relative, and written only when set.
    @Test func backboneWeightsPathIsRelativeToTheConfigFile() throws {
        let dir = try TestSupport.temporaryDirectory("cfg-weights")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.json")
        try Data(#"{"architecture": "salience_detr", "backbone": {"type": "swin", "weights": "w/swin_l.pth"}}"#.utf8)
            .write(to: url)
        let c = try ModelConfig.load(contentsOf: url)
        #expect(c.backbone.weights == dir.appendingPathComponent("w/swin_l.pth").path)
        try Data(#"{"architecture": "conditional_detr", "backbone": {"weights": "/abs/r50.pth"}}"#.utf8).write(to: url)
        #expect(try ModelConfig.load(contentsOf: url).backbone.weights == "/abs/r50.pth")
        let plain = try #require(ModelConfig.preset("salience-detr-r50"))
        let json = try #require(try JSONSerialization.jsonObject(with: try plain.jsonData()) as? [String: Any])
        #expect((json["backbone"] as? [String: Any])?["weights"] == nil)
    }
}
