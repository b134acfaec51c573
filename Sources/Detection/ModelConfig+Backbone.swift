import Diagnostics
import Foundation

/// What an architecture's `backbone` object may hold: the families it takes, whether it selects
/// and freezes stages (`return_indices`, `freeze_indices`), and whether a ResNet may be dilated.
struct BackboneRules: Sendable {
    var families: [BackboneType]
    var selectsStages: Bool
    var dilation: Bool
}

/// The `backbone` object of a config: its keys depend on `type` and on the architecture's rules,
/// and a key of another type is an unknown key.
extension BackboneConfig {
    /// The fields of a backbone of `type` under `rules` (besides `type`).
    static func fields(_ type: BackboneType, rules: BackboneRules) -> [ConfigField<BackboneConfig>] {
        var fields: [ConfigField<BackboneConfig>] = [
            ConfigField(
                key: "weights", read: { r, b in try r.read("weights", &b.weights) },
                write: { b, c in try c.encodeIfPresent(b.weights, forKey: "weights") })
        ]
        if rules.selectsStages {
            fields += [ConfigField("return_indices", \.returnIndices), ConfigField("freeze_indices", \.freezeIndices)]
        }
        switch type {
        case .resnet:
            fields += [
                ConfigField(
                    key: "block",
                    read: { r, b in
                        var name = b.block.rawValue
                        try r.read("block", &name)
                        guard let block = ResNetBlock(rawValue: name) else {
                            throw ConfigError(
                                source: "",
                                problem: "'backbone.block' must be \"bottleneck\" or \"basic\", not \"\(name)\"")
                        }
                        b.block = block
                    }, write: { b, c in try c.encode(b.block, forKey: "block") }),
                ConfigField("layers", \.layers),
            ]
            if rules.dilation { fields.append(ConfigField("dilation", \.dilation)) }
        case .swin:
            fields += [
                ConfigField("patch_size", \.swin.patchSize), ConfigField("embed_dim", \.swin.embedDim),
                ConfigField("depths", \.swin.depths), ConfigField("num_heads", \.swin.numHeads),
                ConfigField("window_size", \.swin.windowSize), ConfigField("mlp_ratio", \.swin.mlpRatio),
                ConfigField("dropout", \.swin.dropout), ConfigField("attention_dropout", \.swin.attentionDropout),
                ConfigField("stochastic_depth_prob", \.swin.stochasticDepthProb),
            ]
        case .convnext:
            fields += [
                ConfigField("channels", \.convnext.channels), ConfigField("depths", \.convnext.depths),
                ConfigField("layer_scale", \.convnext.layerScale),
                ConfigField("stochastic_depth_prob", \.convnext.stochasticDepthProb),
            ]
        case .focalnet:
            fields += [
                ConfigField("patch_size", \.focalnet.patchSize), ConfigField("embed_dim", \.focalnet.embedDim),
                ConfigField("depths", \.focalnet.depths), ConfigField("mlp_ratio", \.focalnet.mlpRatio),
                ConfigField("dropout", \.focalnet.dropout),
                ConfigField("stochastic_depth_prob", \.focalnet.stochasticDepthProb),
                ConfigField("focal_levels", \.focalnet.focalLevels),
                ConfigField("focal_windows", \.focalnet.focalWindows),
                ConfigField("use_conv_embed", \.focalnet.useConvEmbed), ConfigField("use_postln", \.focalnet.usePostLN),
                ConfigField("use_postln_in_modulation", \.focalnet.usePostLNInModulation),
                ConfigField("use_layerscale", \.focalnet.useLayerScale),
                ConfigField("normalize_modulator", \.focalnet.normalizeModulator),
            ]
        }
        return fields
    }

    mutating func read(_ r: ObjectReader, rules: BackboneRules, architecture: String) throws {
        if let name = try r.peek("backbone", "type") {
            guard let type = BackboneType(rawValue: name) else {
                let valid = BackboneType.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
                throw ConfigError(source: "", problem: "'backbone.type' must be one of \(valid), not '\(name)'")
            }
            guard rules.families.contains(type) else {
                let taken = rules.families.map { "'\($0.rawValue)'" }.joined(separator: ", ")
                throw ConfigError(source: "", problem: "\(architecture) takes only \(taken) backbones, not '\(name)'")
            }
            self.type = type
        }
        let fields = Self.fields(type, rules: rules)
        guard
            let b = try r.object(
                "backbone", allowed: Set(fields.map(\.key)).union(["type"]),
                context: "\(architecture) backbone (\(type.rawValue))")
        else { return }
        for field in fields { try field.read(b, &self) }
    }

    func encode(_ b: inout KeyedEncodingContainer<DynamicKey>, rules: BackboneRules) throws {
        try b.encode(type, forKey: "type")
        for field in Self.fields(type, rules: rules) { try field.write(self, &b) }
    }

    /// Checks the settings of the backbone's `type`.
    func validate() throws {
        func fail(_ p: String) -> ConfigError { ConfigError(source: "", problem: p) }
        func fourPositive(_ v: [Int], _ key: String) throws {
            guard v.count == 4, v.allSatisfy({ $0 >= 1 }) else {
                throw fail("'backbone.\(key)' must list 4 positive values, got \(v)")
            }
        }
        func pair(_ v: [Int], _ key: String) throws {
            guard v.count == 2, v.allSatisfy({ $0 >= 1 }) else {
                throw fail("'backbone.\(key)' must be two positive sizes [h, w], got \(v)")
            }
        }
        func probability(_ p: Double, _ key: String) throws {
            guard (0.0..<1.0).contains(p) else { throw fail("'backbone.\(key)' must be in [0, 1)") }
        }
        switch type {
        case .resnet:
            try fourPositive(layers, "layers")
        case .swin:
            let s = swin
            try pair(s.patchSize, "patch_size")
            try pair(s.windowSize, "window_size")
            try fourPositive(s.depths, "depths")
            try fourPositive(s.numHeads, "num_heads")
            guard s.embedDim >= 1, (0..<4).allSatisfy({ (s.embedDim << $0) % s.numHeads[$0] == 0 }) else {
                throw fail("'backbone.embed_dim' · 2^i must be divisible by num_heads[i] in every stage")
            }
            guard s.mlpRatio > 0 else { throw fail("'backbone.mlp_ratio' must be positive") }
            try probability(s.dropout, "dropout")
            try probability(s.attentionDropout, "attention_dropout")
            try probability(s.stochasticDepthProb, "stochastic_depth_prob")
        case .convnext:
            let c = convnext
            try fourPositive(c.channels, "channels")
            try fourPositive(c.depths, "depths")
            try probability(c.stochasticDepthProb, "stochastic_depth_prob")
        case .focalnet:
            let f = focalnet
            try pair(f.patchSize, "patch_size")
            try fourPositive(f.depths, "depths")
            try fourPositive(f.focalLevels, "focal_levels")
            try fourPositive(f.focalWindows, "focal_windows")
            guard f.focalWindows.allSatisfy({ $0 % 2 == 1 }) else {
                throw fail("'backbone.focal_windows' must be odd (the focal convolutions keep the map size)")
            }
            guard f.embedDim >= 1 else { throw fail("'backbone.embed_dim' must be positive") }
            guard f.mlpRatio > 0 else { throw fail("'backbone.mlp_ratio' must be positive") }
            try probability(f.dropout, "dropout")
            try probability(f.stochasticDepthProb, "stochastic_depth_prob")
        }
    }
}
