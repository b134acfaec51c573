import Foundation

/// The `backbone` object of a config: its keys depend on `type`, and a key of another type is an
/// unknown key. Conditional DETR takes ResNets only.
extension ModelConfig {
    static func backboneKeys(_ type: BackboneType, salience: Bool) -> Set<String> {
        let stages: Set<String> = ["type", "return_indices", "freeze_indices"]
        switch type {
        case .resnet:
            return salience ? stages.union(["block", "layers"]) : ["type", "block", "layers", "dilation"]
        case .swin:
            return stages.union([
                "patch_size", "embed_dim", "depths", "num_heads", "window_size", "mlp_ratio", "dropout",
                "attention_dropout", "stochastic_depth_prob",
            ])
        case .convnext:
            return stages.union(["channels", "depths", "layer_scale", "stochastic_depth_prob"])
        case .focalnet:
            return stages.union([
                "patch_size", "embed_dim", "depths", "mlp_ratio", "dropout", "stochastic_depth_prob", "focal_levels",
                "focal_windows", "use_conv_embed", "use_postln", "use_postln_in_modulation", "use_layerscale",
                "normalize_modulator",
            ])
        }
    }

    mutating func readBackbone(_ r: ObjectReader, salience: Bool, context: String) throws {
        if let name = try r.peek("backbone", "type") {
            guard let type = BackboneType(rawValue: name) else {
                let valid = BackboneType.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
                throw ConfigError(source: "", problem: "'backbone.type' must be one of \(valid), not '\(name)'")
            }
            guard salience || type == .resnet else {
                throw ConfigError(source: "", problem: "conditional_detr takes only 'resnet' backbones, not '\(name)'")
            }
            backbone.type = type
        }
        let keys = Self.backboneKeys(backbone.type, salience: salience)
        guard let b = try r.object("backbone", allowed: keys, context: "\(context) (\(backbone.type.rawValue))")
        else { return }
        try b.read("return_indices", &backbone.returnIndices)
        try b.read("freeze_indices", &backbone.freezeIndices)
        switch backbone.type {
        case .resnet:
            var block = backbone.block.rawValue
            try b.read("block", &block)
            guard let parsed = ResNetBlock(rawValue: block) else {
                throw ConfigError(
                    source: "", problem: "'backbone.block' must be \"bottleneck\" or \"basic\", not \"\(block)\"")
            }
            backbone.block = parsed
            try b.read("layers", &backbone.layers)
            try b.read("dilation", &backbone.dilation)
        case .swin:
            try b.read("patch_size", &backbone.swin.patchSize)
            try b.read("embed_dim", &backbone.swin.embedDim)
            try b.read("depths", &backbone.swin.depths)
            try b.read("num_heads", &backbone.swin.numHeads)
            try b.read("window_size", &backbone.swin.windowSize)
            try b.read("mlp_ratio", &backbone.swin.mlpRatio)
            try b.read("dropout", &backbone.swin.dropout)
            try b.read("attention_dropout", &backbone.swin.attentionDropout)
            try b.read("stochastic_depth_prob", &backbone.swin.stochasticDepthProb)
        case .convnext:
            try b.read("channels", &backbone.convnext.channels)
            try b.read("depths", &backbone.convnext.depths)
            try b.read("layer_scale", &backbone.convnext.layerScale)
            try b.read("stochastic_depth_prob", &backbone.convnext.stochasticDepthProb)
        case .focalnet:
            try b.read("patch_size", &backbone.focalnet.patchSize)
            try b.read("embed_dim", &backbone.focalnet.embedDim)
            try b.read("depths", &backbone.focalnet.depths)
            try b.read("mlp_ratio", &backbone.focalnet.mlpRatio)
            try b.read("dropout", &backbone.focalnet.dropout)
            try b.read("stochastic_depth_prob", &backbone.focalnet.stochasticDepthProb)
            try b.read("focal_levels", &backbone.focalnet.focalLevels)
            try b.read("focal_windows", &backbone.focalnet.focalWindows)
            try b.read("use_conv_embed", &backbone.focalnet.useConvEmbed)
            try b.read("use_postln", &backbone.focalnet.usePostLN)
            try b.read("use_postln_in_modulation", &backbone.focalnet.usePostLNInModulation)
            try b.read("use_layerscale", &backbone.focalnet.useLayerScale)
            try b.read("normalize_modulator", &backbone.focalnet.normalizeModulator)
        }
    }

    func encodeBackbone(_ b: inout KeyedEncodingContainer<JSONKey>) throws {
        try b.encode(backbone.type, forKey: "type")
        if architecture == .salienceDetr {
            try b.encode(backbone.returnIndices, forKey: "return_indices")
            try b.encode(backbone.freezeIndices, forKey: "freeze_indices")
        }
        switch backbone.type {
        case .resnet:
            try b.encode(backbone.block, forKey: "block")
            try b.encode(backbone.layers, forKey: "layers")
            if architecture == .conditionalDetr { try b.encode(backbone.dilation, forKey: "dilation") }
        case .swin:
            let s = backbone.swin
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
            let c = backbone.convnext
            try b.encode(c.channels, forKey: "channels")
            try b.encode(c.depths, forKey: "depths")
            try b.encode(c.layerScale, forKey: "layer_scale")
            try b.encode(c.stochasticDepthProb, forKey: "stochastic_depth_prob")
        case .focalnet:
            let f = backbone.focalnet
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

    /// Checks the backbone settings of `backbone.type`.
    func validateBackbone() throws {
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
        switch backbone.type {
        case .resnet:
            try fourPositive(backbone.layers, "layers")
        case .swin:
            let s = backbone.swin
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
            let c = backbone.convnext
            try fourPositive(c.channels, "channels")
            try fourPositive(c.depths, "depths")
            try probability(c.stochasticDepthProb, "stochastic_depth_prob")
        case .focalnet:
            let f = backbone.focalnet
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
