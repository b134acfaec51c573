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

/// What one architecture's config type says about itself and its JSON. The keys every
/// architecture shares are read, written and checked by `CommonConfig`; each architecture adds
/// its own here, and the unknown-key check covers both at once.
protocol ArchitectureConfig: Sendable {
    static var architecture: Architecture { get }
    /// The JSON key of the model width (`embed_dim`, `hidden_dim`).
    static var widthKey: String { get }
    /// Its own top-level JSON keys.
    static var ownKeys: Set<String> { get }
    /// The keys of its `position_embedding` object.
    static var positionEmbeddingKeys: Set<String> { get }
    /// The backbone families and stage keys it takes.
    static var backboneRules: BackboneRules { get }
    /// The official R50 configuration.
    init()
    var common: CommonConfig { get set }
    var modelConfig: ModelConfig { get }
    var recipe: any DetectorRecipe { get }
    /// Reads its own keys (the reader has checked that no unknown key is there).
    mutating func readOwn(_ r: ObjectReader) throws
    func encodeOwn(_ c: inout KeyedEncodingContainer<JSONKey>) throws
    /// Checks its own settings (after the common ones are checked).
    func validateOwn() throws
}

/// One architecture's entry points, for `ModelConfig` to pick by name.
struct ArchitectureEntry: Sendable {
    let architecture: Architecture
    let official: @Sendable () -> ModelConfig
    let decode: @Sendable (KeyedDecodingContainer<JSONKey>) throws -> ModelConfig

    init<A: ArchitectureConfig>(_: A.Type) {
        architecture = A.architecture
        official = { A().modelConfig }
        decode = { try A.decode($0) }
    }
}

extension ArchitectureConfig {
    static var allKeys: Set<String> { CommonConfig.keys.union([widthKey]).union(ownKeys) }

    /// A config of this architecture from a JSON object whose `architecture` names it.
    static func decode(_ c: KeyedDecodingContainer<JSONKey>) throws -> ModelConfig {
        let r = try ObjectReader(c, path: "", allowed: allKeys, context: architecture.rawValue)
        var config = Self()
        try config.common.read(r, as: Self.self)
        try config.readOwn(r)
        try config.common.readObjects(r, as: Self.self)
        return config.modelConfig
    }

    func encode(_ c: inout KeyedEncodingContainer<JSONKey>) throws {
        try c.encode(Self.architecture, forKey: "architecture")
        try common.encode(&c, as: Self.self)
        try encodeOwn(&c)
    }
}

extension ModelConfig: Codable {
    public init(from decoder: Decoder) throws {
        self = try Self.decoded(from: decoder)
    }

    /// The config of the architecture the object names, checked.
    private static func decoded(from decoder: Decoder) throws -> ModelConfig {
        let c = try decoder.container(keyedBy: JSONKey.self)
        let names = architectures.map(\.architecture.rawValue)
        guard c.contains("architecture") else {
            throw ConfigError(source: "", problem: "missing key 'architecture' (\(names.joined(separator: " or ")))")
        }
        let name = try? c.decode(String.self, forKey: "architecture")
        guard let type = architectures.first(where: { $0.architecture.rawValue == name }) else {
            let quoted = names.map { "\"\($0)\"" }.joined(separator: " or ")
            throw ConfigError(source: "", problem: "'architecture' must be \(quoted)")
        }
        let config = try type.decode(c)
        try config.validate()
        return config
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try body.encode(&c)
    }

    /// Checks values that would otherwise fail deep inside a model: every number against its
    /// meaningful range (an allocation of a trillion queries, a zero-width layer and the like
    /// are refused here, naming the key, instead of failing inside libtorch), then the rules of
    /// the architecture.
    public func validate() throws {
        let body = body
        try common.validate(widthKey: type(of: body).widthKey)
        try body.validateOwn()
    }
}

extension CommonConfig {
    /// The top-level keys every architecture has (the width's name is the architecture's).
    static let keys: Set<String> = [
        "architecture", "num_classes", "num_queries", "num_heads", "num_encoder_layers", "num_decoder_layers",
        "dim_feedforward", "dropout", "backbone", "position_embedding", "min_size", "max_size", "num_select",
        "matcher", "loss_weights", "focal_alpha", "focal_gamma",
    ]

    /// Reads the common numbers.
    mutating func read<A: ArchitectureConfig>(_ r: ObjectReader, as _: A.Type) throws {
        try r.read("num_classes", &numClasses)
        try r.read("num_queries", &numQueries)
        try r.read(A.widthKey, &hiddenDim)
        try r.read("num_heads", &numHeads)
        try r.read("num_encoder_layers", &numEncoderLayers)
        try r.read("num_decoder_layers", &numDecoderLayers)
        try r.read("dim_feedforward", &dimFeedforward)
        try r.read("dropout", &dropout)
        try r.read("min_size", &minSize)
        try r.read("max_size", &maxSize)
        try r.read("num_select", &numSelect)
        try r.read("focal_alpha", &focalAlpha)
        try r.read("focal_gamma", &focalGamma)
        try r.read("loss_weights", &lossWeights)
    }

    /// Reads the common objects: backbone, position embedding, matcher.
    mutating func readObjects<A: ArchitectureConfig>(_ r: ObjectReader, as _: A.Type) throws {
        let name = A.architecture.rawValue
        try backbone.read(r, rules: A.backboneRules, architecture: name)
        if let p = try r.object(
            "position_embedding", allowed: A.positionEmbeddingKeys, context: "\(name) position_embedding")
        {
            try p.read("temperature", &positionEmbedding.temperature)
            try p.read("offset", &positionEmbedding.offset)
        }
        if let m = try r.object("matcher", allowed: ["cost_class", "cost_bbox", "cost_giou"], context: "matcher") {
            try m.read("cost_class", &matcher.costClass)
            try m.read("cost_bbox", &matcher.costBbox)
            try m.read("cost_giou", &matcher.costGiou)
        }
    }

    func encode<A: ArchitectureConfig>(_ c: inout KeyedEncodingContainer<JSONKey>, as _: A.Type) throws {
        try c.encode(numClasses, forKey: "num_classes")
        try c.encode(numQueries, forKey: "num_queries")
        try c.encode(hiddenDim, forKey: JSONKey(A.widthKey))
        try c.encode(numHeads, forKey: "num_heads")
        try c.encode(numEncoderLayers, forKey: "num_encoder_layers")
        try c.encode(numDecoderLayers, forKey: "num_decoder_layers")
        try c.encode(dimFeedforward, forKey: "dim_feedforward")
        try c.encode(dropout, forKey: "dropout")
        var b = c.nestedContainer(keyedBy: JSONKey.self, forKey: "backbone")
        try backbone.encode(&b, rules: A.backboneRules)
        var p = c.nestedContainer(keyedBy: JSONKey.self, forKey: "position_embedding")
        try p.encode(positionEmbedding.temperature, forKey: "temperature")
        if A.positionEmbeddingKeys.contains("offset") { try p.encode(positionEmbedding.offset, forKey: "offset") }
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

    /// Checks the common numbers against their ranges (`widthKey` names the width in messages).
    func validate(widthKey: String) throws {
        try backbone.validate()
        try ConfigRange.check(numClasses, "num_classes", 1...ConfigRange.maxClasses)
        try ConfigRange.check(numQueries, "num_queries", 1...ConfigRange.maxQueries)
        try ConfigRange.check(hiddenDim, widthKey, 2...ConfigRange.maxWidth)
        try ConfigRange.check(numHeads, "num_heads", 1...hiddenDim)
        guard hiddenDim % numHeads == 0, hiddenDim % 2 == 0 else {
            throw ConfigError(
                source: "", problem: "width \(hiddenDim) must be even and divisible by num_heads \(numHeads)")
        }
        try ConfigRange.check(numEncoderLayers, "num_encoder_layers", 1...ConfigRange.maxLayers)
        try ConfigRange.check(numDecoderLayers, "num_decoder_layers", 1...ConfigRange.maxLayers)
        try ConfigRange.check(dimFeedforward, "dim_feedforward", 1...ConfigRange.maxFeedforward)
        try ConfigRange.check(dropout, "dropout", 0..<1)
        try ConfigRange.check(minSize, "min_size", 1...ConfigRange.maxSide)
        try ConfigRange.check(maxSize, "max_size", minSize...ConfigRange.maxSide)
        try ConfigRange.check(numSelect, "num_select", 1...ConfigRange.maxQueries * 100)
        try ConfigRange.check(positionEmbedding.temperature, "position_embedding.temperature", 1e-6...1e12)
        try ConfigRange.check(positionEmbedding.offset, "position_embedding.offset", -1e6...1e6)
        try ConfigRange.check(matcher.costClass, "matcher.cost_class", 0...1e6)
        try ConfigRange.check(matcher.costBbox, "matcher.cost_bbox", 0...1e6)
        try ConfigRange.check(matcher.costGiou, "matcher.cost_giou", 0...1e6)
        for key in lossWeights.keys.sorted() {
            try ConfigRange.check(lossWeights[key]!, "loss_weights.\(key)", 0...1e6)
        }
        try ConfigRange.check(focalAlpha, "focal_alpha", 0...1)
        try ConfigRange.check(focalGamma, "focal_gamma", 0...100)
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
