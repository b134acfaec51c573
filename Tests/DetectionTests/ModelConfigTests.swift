import Detection
import Foundation
import Testing
import TestSupport

@Suite struct ModelConfigTests {
    @Test(arguments: ["conditional_detr", "salience_detr"])
    func fixtureConfigsLoadUnchanged(dir: String) throws {
        guard TestSupport.fixturesAvailable() else { return }
        let url = TestSupport.sharedFixtures!.appendingPathComponent("\(dir)/tiny.config.json")
        let c = try ModelConfig.load(contentsOf: url)
        #expect(c.architecture.rawValue == dir)
        #expect(c.hiddenDim == 64)
        #expect(c.backbone.layers == [1, 1, 1, 1])
        #expect(c.minSize == 128 && c.maxSize == 213)
        if dir == "salience_detr" {
            #expect(c.numQueries == 100 && c.topkSA == 30 && c.denoising.num == 10)
            #expect(c.positionEmbedding.offset == -0.5)
        } else {
            #expect(c.numQueries == 30 && c.numEncoderLayers == 3 && c.dropout == 0)
        }
        // Round trip through our own encoder.
        let again = try JSONDecoder().decode(ModelConfig.self, from: c.jsonData())
        #expect(again == c)
    }

    @Test func presetsHaveOfficialValues() throws {
        let s = try #require(ModelConfig.preset("salience-detr-r50"))
        #expect(s.numQueries == 900 && s.numSelect == 300 && s.hiddenDim == 256 && s.topkSA == 300)
        let s5 = try #require(ModelConfig.preset("salience-detr-r50-5scale"))
        #expect(s5.backbone.returnIndices == [0, 1, 2, 3] && s5.maxNumEmbedding == 500 && s5.numFeatureLevels == 4)
        let c = try #require(ModelConfig.preset("conditional-detr-r101-dc5"))
        #expect(c.backbone.layers == [3, 4, 23, 3] && c.backbone.dilation && c.numQueries == 300 && c.dropout == 0.1)
        for name in ModelConfig.presetNames { #expect(ModelConfig.preset(name) != nil) }
        #expect(ModelConfig.preset("yolo") == nil)
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
        #expect(throws: ConfigError(source: "", problem: "unknown key 'backbone.dilation' for salience_detr backbone")) {
            try decode(#"{"architecture": "salience_detr", "backbone": {"dilation": true}}"#)
        }
        #expect(throws: ConfigError.self) { try decode(#"{"architecture": "salience_detr", "num_queries": "many"}"#) }
        #expect(throws: ConfigError.self) { try decode(#"{"num_queries": 3}"#) }
    }

    @Test func otherBackbonesAreRejectedClearly() {
        do {
            _ = try decode(#"{"architecture": "salience_detr", "backbone": {"type": "swin_l"}}"#)
            Issue.record("accepted swin_l")
        } catch {
            #expect("\(error)".contains("swin_l") && "\(error)".contains("not supported"))
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
}
