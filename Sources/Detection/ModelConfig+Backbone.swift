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
    static func keys(_ type: BackboneType, rules: BackboneRules) -> Set<String> {
        var keys: Set<String> = ["type"]
        if rules.selectsStages { keys.formUnion(["return_indices", "freeze_indices"]) }
        switch type {
        case .resnet:
            keys.formUnion(["block", "layers"])
            if rules.dilation { keys.insert("dilation") }
        case .swin:
            keys.formUnion([
                "patch_size", "embed_dim", "depths", "num_heads", "window_size", "mlp_ratio", "dropout",
                "attention_dropout", "stochastic_depth_prob",
            ])
        case .convnext:
            keys.formUnion(["channels", "depths", "layer_scale", "stochastic_depth_prob"])
        case .focalnet:
            keys.formUnion([
                "patch_size", "embed_dim", "depths", "mlp_ratio", "dropout", "stochastic_depth_prob", "focal_levels",
                "focal_windows", "use_conv_embed", "use_postln", "use_postln_in_modulation", "use_layerscale",
                "normalize_modulator",
            ])
        }
        return keys
    }

    mutating func read(_ r: ObjectReader, rules: BackboneRules, architecture: String) throws {
        if let name = try r.peek("backbone", "type") {
            guard let type = BackboneType(rawValue: name) else {
                let valid = BackboneType.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
                throw ConfigError(source: "", problem: "'backbone.type' must be one of \(valid), not '\(name)'")
            }
            guard rules.families.contains(type) else {
                let taken = rules.families.map { "'\($0.rawValue)'" }.joined(separator: ", ")
                throw ConfigError(
                    source: "", problem: "\(architecture) takes only \(taken) backbones, not '\(name)'")
            }
            self.type = type
        }
        guard
            let b = try r.object(
                "backbone", allowed: Self.keys(type, rules: rules),
                context: "\(architecture) backbone (\(type.rawValue))")
        else { return }
        try b.read("return_indices", &returnIndices)
        try b.read("freeze_indices", &freezeIndices)
        switch type {
        case .resnet:
            var blockName = block.rawValue
            try b.read("block", &blockName)
            guard let parsed = ResNetBlock(rawValue: blockName) else {
                throw ConfigError(
                    source: "", problem: "'backbone.block' must be \"bottleneck\" or \"basic\", not \"\(blockName)\"")
            }
            block = parsed
            try b.read("layers", &layers)
            try b.read("dilation", &dilation)
        case .swin:
            try b.read("patch_size", &swin.patchSize)
            try b.read("embed_dim", &swin.embedDim)
            try b.read("depths", &swin.depths)
            try b.read("num_heads", &swin.numHeads)
            try b.read("window_size", &swin.windowSize)
            try b.read("mlp_ratio", &swin.mlpRatio)
            try b.read("dropout", &swin.dropout)
            try b.read("attention_dropout", &swin.attentionDropout)
            try b.read("stochastic_depth_prob", &swin.stochasticDepthProb)
        case .convnext:
            try b.read("channels", &convnext.channels)
            try b.read("depths", &convnext.depths)
            try b.read("layer_scale", &convnext.layerScale)
            try b.read("stochastic_depth_prob", &convnext.stochasticDepthProb)
        case .focalnet:
            try b.read("patch_size", &focalnet.patchSize)
            try b.read("embed_dim", &focalnet.embedDim)
            try b.read("depths", &focalnet.depths)
            try b.read("mlp_ratio", &focalnet.mlpRatio)
            try b.read("dropout", &focalnet.dropout)
            try b.read("stochastic_depth_prob", &focalnet.stochasticDepthProb)
            try b.read("focal_levels", &focalnet.focalLevels)
            try b.read("focal_windows", &focalnet.focalWindows)
            try b.read("use_conv_embed", &focalnet.useConvEmbed)
            try b.read("use_postln", &focalnet.usePostLN)
            try b.read("use_postln_in_modulation", &focalnet.usePostLNInModulation)
            try b.read("use_layerscale", &focalnet.useLayerScale)
            try b.read("normalize_modulator", &focalnet.normalizeModulator)
        }
    }

    func encode(_ b: inout KeyedEncodingContainer<JSONKey>, rules: BackboneRules) throws {
        try b.encode(type, forKey: "type")
        if rules.selectsStages {
            try b.encode(returnIndices, forKey: "return_indices")
            try b.encode(freezeIndices, forKey: "freeze_indices")
        }
        switch type {
        case .resnet:
            try b.encode(block, forKey: "block")
            try b.encode(layers, forKey: "layers")
            if rules.dilation { try b.encode(dilation, forKey: "dilation") }
        case .swin:
            let s = swin
            try b.encode(s.patchSize, forKey: "patch_size")
            try b.encode(s.embedDim, forKey: "embed_dim")
            try b.encode(s.depths, forKey: "depths")
            try b.encode(s.numHeads, forKey: "num_heads")
            try b.encode(s.windowSize, forKey: "window_size")
            try b.encode(s.mlpRatio, forKey: "mlp_ratio")
            try b.encode(s.dropout, forKey: "dropout")
            try b.encode(s.attentionDropout, forKey: "attention_dropout")
            try b.encode(s.stochasticDepthProb, forKey: "stochastic_depth_prob")
        case .convnext:
            let c = convnext
            try b.encode(c.channels, forKey: "channels")
            try b.encode(c.depths, forKey: "depths")
            try b.encode(c.layerScale, forKey: "layer_scale")
            try b.encode(c.stochasticDepthProb, forKey: "stochastic_depth_prob")
        case .focalnet:
            let f = focalnet
            try b.encode(f.patchSize, forKey: "patch_size")
            try b.encode(f.embedDim, forKey: "embed_dim")
            try b.encode(f.depths, forKey: "depths")
            try b.encode(f.mlpRatio, forKey: "mlp_ratio")
            try b.encode(f.dropout, forKey: "dropout")
            try b.encode(f.stochasticDepthProb, forKey: "stochastic_depth_prob")
            try b.encode(f.focalLevels, forKey: "focal_levels")
            try b.encode(f.focalWindows, forKey: "focal_windows")
            try b.encode(f.useConvEmbed, forKey: "use_conv_embed")
            try b.encode(f.usePostLN, forKey: "use_postln")
            try b.encode(f.usePostLNInModulation, forKey: "use_postln_in_modulation")
            try b.encode(f.useLayerScale, forKey: "use_layerscale")
            try b.encode(f.normalizeModulator, forKey: "normalize_modulator")
        }
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
