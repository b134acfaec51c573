import Foundation

/// A JSON object key known only at run time.
struct JSONKey: CodingKey, ExpressibleByStringLiteral {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init(stringLiteral s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Reads optional keys from a JSON object, rejecting keys outside an allowed set.
struct ObjectReader {
    let container: KeyedDecodingContainer<JSONKey>
    let path: String

    init(_ container: KeyedDecodingContainer<JSONKey>, path: String, allowed: Set<String>, context: String) throws {
        self.container = container
        self.path = path
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw ConfigError(source: "", problem: "unknown key '\(path)\(key.stringValue)' for \(context)")
        }
    }

    func read<T: Decodable>(_ key: String, _ value: inout T) throws {
        do {
            if let v = try container.decodeIfPresent(T.self, forKey: JSONKey(key)) { value = v }
        } catch DecodingError.typeMismatch(let type, _) {
            throw ConfigError(source: "", problem: "'\(path)\(key)' should be of type \(type)")
        } catch DecodingError.dataCorrupted(let ctx) {
            throw ConfigError(source: "", problem: "'\(path)\(key)': \(ctx.debugDescription)")
        }
    }

    /// The string `key` of the nested object `object`, if both exist (read before the object's
    /// allowed keys are known, e.g. a backbone's `type`).
    func peek(_ object: String, _ key: String) throws -> String? {
        guard container.contains(JSONKey(object)),
            let nested = try? container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey(object))
        else { return nil }
        do {
            return try nested.decodeIfPresent(String.self, forKey: JSONKey(key))
        } catch {
            throw ConfigError(source: "", problem: "'\(path)\(object).\(key)' should be of type String")
        }
    }

    func object(_ key: String, allowed: Set<String>, context: String) throws -> ObjectReader? {
        guard container.contains(JSONKey(key)) else { return nil }
        do {
            let nested = try container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey(key))
            return try ObjectReader(nested, path: "\(path)\(key).", allowed: allowed, context: context)
        } catch DecodingError.typeMismatch {
            throw ConfigError(source: "", problem: "'\(path)\(key)' should be an object")
        }
    }
}

extension ModelConfig: Codable {
    static let commonKeys: Set<String> = [
        "architecture", "num_classes", "num_queries", "num_heads", "num_encoder_layers", "num_decoder_layers",
        "dim_feedforward", "dropout", "backbone", "position_embedding", "min_size", "max_size", "num_select",
        "matcher", "loss_weights", "focal_alpha", "focal_gamma",
    ]
    static let salienceKeys = commonKeys.union([
        "embed_dim", "num_feature_levels", "num_points", "topk_sa", "max_num_embedding", "level_filter_ratio",
        "layer_filter_ratio", "transformer_neck", "denoising",
    ])
    static let conditionalKeys = commonKeys.union(["hidden_dim", "aux_loss", "group_detr"])

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        var arch = Architecture.salienceDetr
        guard c.contains("architecture") else {
            throw ConfigError(source: "", problem: "missing key 'architecture' (salience_detr or conditional_detr)")
        }
        do { arch = try c.decode(Architecture.self, forKey: "architecture") } catch {
            throw ConfigError(source: "", problem: "'architecture' must be \"salience_detr\" or \"conditional_detr\"")
        }
        self.init(architecture: arch)
        let salience = arch == .salienceDetr
        let r = try ObjectReader(
            c, path: "", allowed: salience ? Self.salienceKeys : Self.conditionalKeys,
            context: arch.rawValue)
        try r.read("num_classes", &numClasses)
        try r.read("num_queries", &numQueries)
        try r.read(salience ? "embed_dim" : "hidden_dim", &hiddenDim)
        try r.read("num_heads", &numHeads)
        try r.read("num_encoder_layers", &numEncoderLayers)
        try r.read("num_decoder_layers", &numDecoderLayers)
        try r.read("dim_feedforward", &dimFeedforward)
        try r.read("dropout", &dropout)
        try r.read("aux_loss", &auxLoss)
        try r.read("group_detr", &groupDetr)
        try r.read("num_feature_levels", &numFeatureLevels)
        try r.read("num_points", &numPoints)
        try r.read("topk_sa", &topkSA)
        try r.read("max_num_embedding", &maxNumEmbedding)
        try r.read("level_filter_ratio", &levelFilterRatio)
        try r.read("layer_filter_ratio", &layerFilterRatio)
        try r.read("min_size", &minSize)
        try r.read("max_size", &maxSize)
        try r.read("num_select", &numSelect)
        try r.read("focal_alpha", &focalAlpha)
        try r.read("focal_gamma", &focalGamma)
        try r.read("loss_weights", &lossWeights)
        try readBackbone(r, salience: salience, context: "\(arch.rawValue) backbone")
        if let p = try r.object(
            "position_embedding", allowed: salience ? ["temperature", "offset"] : ["temperature"],
            context: "\(arch.rawValue) position_embedding")
        {
            try p.read("temperature", &positionEmbedding.temperature)
            try p.read("offset", &positionEmbedding.offset)
        }
        if let n = try r.object("transformer_neck", allowed: ["type", "groups"], context: "transformer_neck") {
            try n.read("type", &transformerNeck.type)
            try n.read("groups", &transformerNeck.groups)
        }
        if let d = try r.object(
            "denoising", allowed: ["num", "label_noise_prob", "box_noise_scale"], context: "denoising")
        {
            try d.read("num", &denoising.num)
            try d.read("label_noise_prob", &denoising.labelNoiseProb)
            try d.read("box_noise_scale", &denoising.boxNoiseScale)
        }
        if let m = try r.object("matcher", allowed: ["cost_class", "cost_bbox", "cost_giou"], context: "matcher") {
            try m.read("cost_class", &matcher.costClass)
            try m.read("cost_bbox", &matcher.costBbox)
            try m.read("cost_giou", &matcher.costGiou)
        }
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        let salience = architecture == .salienceDetr
        try c.encode(architecture, forKey: "architecture")
        try c.encode(numClasses, forKey: "num_classes")
        try c.encode(numQueries, forKey: "num_queries")
        try c.encode(hiddenDim, forKey: JSONKey(salience ? "embed_dim" : "hidden_dim"))
        try c.encode(numHeads, forKey: "num_heads")
        try c.encode(numEncoderLayers, forKey: "num_encoder_layers")
        try c.encode(numDecoderLayers, forKey: "num_decoder_layers")
        try c.encode(dimFeedforward, forKey: "dim_feedforward")
        try c.encode(dropout, forKey: "dropout")
        var b = c.nestedContainer(keyedBy: JSONKey.self, forKey: "backbone")
        try encodeBackbone(&b)
        var p = c.nestedContainer(keyedBy: JSONKey.self, forKey: "position_embedding")
        try p.encode(positionEmbedding.temperature, forKey: "temperature")
        if salience {
            try p.encode(positionEmbedding.offset, forKey: "offset")
            try c.encode(numFeatureLevels, forKey: "num_feature_levels")
            try c.encode(numPoints, forKey: "num_points")
            try c.encode(topkSA, forKey: "topk_sa")
            try c.encode(maxNumEmbedding, forKey: "max_num_embedding")
            try c.encode(levelFilterRatio, forKey: "level_filter_ratio")
            try c.encode(layerFilterRatio, forKey: "layer_filter_ratio")
            var n = c.nestedContainer(keyedBy: JSONKey.self, forKey: "transformer_neck")
            try n.encode(transformerNeck.type, forKey: "type")
            try n.encode(transformerNeck.groups, forKey: "groups")
            var d = c.nestedContainer(keyedBy: JSONKey.self, forKey: "denoising")
            try d.encode(denoising.num, forKey: "num")
            try d.encode(denoising.labelNoiseProb, forKey: "label_noise_prob")
            try d.encode(denoising.boxNoiseScale, forKey: "box_noise_scale")
        } else {
            try c.encode(auxLoss, forKey: "aux_loss")
            if groupDetr != 1 { try c.encode(groupDetr, forKey: "group_detr") }
        }
        try c.encode(minSize, forKey: "min_size")
        try c.encode(maxSize, forKey: "max_size")
        try c.encode(numSelect, forKey: "num_select")
        var m = c.nestedContainer(keyedBy: JSONKey.self, forKey: "matcher")
        try m.encode(matcher.costClass, forKey: "cost_class")
        try m.encode(matcher.costBbox, forKey: "cost_bbox")
        try m.encode(matcher.costGiou, forKey: "cost_giou")
        try c.encode(lossWeights, forKey: "loss_weights")
        try c.encode(focalAlpha, forKey: "focal_alpha")
        try c.encode(focalGamma, forKey: "focal_gamma")
    }

    /// Checks values that would otherwise fail deep inside a model: every number against its
    /// meaningful range (an allocation of a trillion queries, a zero-width layer and the like
    /// are refused here, naming the key, instead of failing inside libtorch).
    public func validate() throws {
        func fail(_ p: String) -> ConfigError { ConfigError(source: "", problem: p) }
        try validateBackbone()
        try ConfigRange.check(numClasses, "num_classes", 1...ConfigRange.maxClasses)
        try ConfigRange.check(numQueries, "num_queries", 1...ConfigRange.maxQueries)
        try ConfigRange.check(groupDetr, "group_detr", 1...64)
        try ConfigRange.check(
            hiddenDim, architecture == .salienceDetr ? "embed_dim" : "hidden_dim", 2...ConfigRange.maxWidth)
        try ConfigRange.check(numHeads, "num_heads", 1...hiddenDim)
        guard hiddenDim % numHeads == 0, hiddenDim % 2 == 0 else {
            throw fail("width \(hiddenDim) must be even and divisible by num_heads \(numHeads)")
        }
        try ConfigRange.check(numEncoderLayers, "num_encoder_layers", 1...ConfigRange.maxLayers)
        try ConfigRange.check(numDecoderLayers, "num_decoder_layers", 1...ConfigRange.maxLayers)
        try ConfigRange.check(dimFeedforward, "dim_feedforward", 1...ConfigRange.maxFeedforward)
        try ConfigRange.check(dropout, "dropout", 0..<1)
        try ConfigRange.check(minSize, "min_size", 1...ConfigRange.maxSide)
        try ConfigRange.check(maxSize, "max_size", minSize...ConfigRange.maxSide)
        try ConfigRange.check(numSelect, "num_select", 1...ConfigRange.maxQueries * 100)
        try ConfigRange.check(numFeatureLevels, "num_feature_levels", 1...8)
        try ConfigRange.check(numPoints, "num_points", 1...64)
        try ConfigRange.check(topkSA, "topk_sa", 1...ConfigRange.maxQueries)
        try ConfigRange.check(maxNumEmbedding, "max_num_embedding", 1...ConfigRange.maxQueries)
        for (key, ratios) in [("level_filter_ratio", levelFilterRatio), ("layer_filter_ratio", layerFilterRatio)] {
            for (i, r) in ratios.enumerated() where !(r > 0 && r <= 1) {
                throw fail("'\(key)[\(i)]' must be in (0, 1], got \(r)")
            }
        }
        try ConfigRange.check(positionEmbedding.temperature, "position_embedding.temperature", 1e-6...1e12)
        try ConfigRange.check(positionEmbedding.offset, "position_embedding.offset", -1e6...1e6)
        try ConfigRange.check(transformerNeck.groups, "transformer_neck.groups", 1...hiddenDim)
        try ConfigRange.check(denoising.num, "denoising.num", 0...ConfigRange.maxQueries)
        try ConfigRange.check(denoising.labelNoiseProb, "denoising.label_noise_prob", 0...1)
        try ConfigRange.check(denoising.boxNoiseScale, "denoising.box_noise_scale", 0...100)
        try ConfigRange.check(matcher.costClass, "matcher.cost_class", 0...1e6)
        try ConfigRange.check(matcher.costBbox, "matcher.cost_bbox", 0...1e6)
        try ConfigRange.check(matcher.costGiou, "matcher.cost_giou", 0...1e6)
        for key in lossWeights.keys.sorted() {
            try ConfigRange.check(lossWeights[key]!, "loss_weights.\(key)", 0...1e6)
        }
        try ConfigRange.check(focalAlpha, "focal_alpha", 0...1)
        try ConfigRange.check(focalGamma, "focal_gamma", 0...100)
        if architecture == .salienceDetr {
            guard levelFilterRatio.count == numFeatureLevels else {
                throw fail("'level_filter_ratio' needs \(numFeatureLevels) values (num_feature_levels)")
            }
            guard layerFilterRatio.count == numEncoderLayers else {
                throw fail("'layer_filter_ratio' needs \(numEncoderLayers) values (num_encoder_layers)")
            }
            let r = backbone.returnIndices
            guard !r.isEmpty, r.allSatisfy({ (0..<4).contains($0) }), r == r.sorted(), Set(r).count == r.count,
                r.count <= numFeatureLevels
            else {
                throw fail(
                    "'backbone.return_indices' must be increasing stage indices in 0...3, at most num_feature_levels")
            }
            guard backbone.freezeIndices.allSatisfy({ (0..<4).contains($0) }) else {
                throw fail("'backbone.freeze_indices' must be in 0...3")
            }
            guard transformerNeck.type == "repvgg_plux" else {
                throw fail("transformer_neck type '\(transformerNeck.type)' is not supported (only repvgg_plux)")
            }
            guard hiddenDim % transformerNeck.groups == 0 else {
                throw fail("embed_dim must be divisible by transformer_neck.groups")
            }
            guard (2...4).contains(numFeatureLevels) else {
                throw fail("'num_feature_levels' must be 2...4 (the salience update has one alpha per upper level)")
            }
            guard hiddenDim % 32 == 0 else {
                throw fail("'embed_dim' must be a multiple of 32 (GroupNorm(32) in the neck)")
            }
        }
    }
}

/// The ranges config numbers are checked against: wide enough for every published configuration
/// (and far beyond), narrow enough that building the model cannot ask for absurd memory.
enum ConfigRange {
    static let maxClasses = 100_000
    static let maxQueries = 100_000
    static let maxWidth = 16_384
    static let maxLayers = 128
    static let maxFeedforward = 65_536
    static let maxSide = 16_384

    static func check(_ value: Int, _ key: String, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ConfigError(
                source: "", problem: "'\(key)' must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }

    static func check(_ value: Double, _ key: String, _ range: ClosedRange<Double>) throws {
        guard value.isFinite, range.contains(value) else {
            throw ConfigError(
                source: "", problem: "'\(key)' must be in [\(range.lowerBound), \(range.upperBound)], got \(value)")
        }
    }

    static func check(_ value: Double, _ key: String, _ range: Range<Double>) throws {
        guard value.isFinite, range.contains(value) else {
            throw ConfigError(
                source: "", problem: "'\(key)' must be in [\(range.lowerBound), \(range.upperBound)), got \(value)")
        }
    }
}
