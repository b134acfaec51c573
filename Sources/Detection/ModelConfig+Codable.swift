import Diagnostics
import Foundation

/// Reads optional keys from a JSON object, rejecting keys outside an allowed set.
struct ObjectReader {
    let container: KeyedDecodingContainer<DynamicKey>
    let path: String

    init(_ container: KeyedDecodingContainer<DynamicKey>, path: String, allowed: Set<String>, context: String) throws {
        self.container = container
        self.path = path
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw ConfigError(source: "", problem: "unknown key '\(path)\(key.stringValue)' for \(context)")
        }
    }

    func read<T: Decodable>(_ key: String, _ value: inout T) throws {
        do {
            if let v = try container.decodeIfPresent(T.self, forKey: DynamicKey(key)) { value = v }
        } catch DecodingError.typeMismatch(let type, _) {
            throw ConfigError(source: "", problem: "'\(path)\(key)' should be of type \(type)")
        } catch DecodingError.dataCorrupted(let ctx) {
            throw ConfigError(source: "", problem: "'\(path)\(key)': \(ctx.debugDescription)")
        }
    }

    /// The string `key` of the nested object `object`, if both exist (read before the object's
    /// allowed keys are known, e.g. a backbone's `type`).
    func peek(_ object: String, _ key: String) throws -> String? {
        guard container.contains(DynamicKey(object)),
            let nested = try? container.nestedContainer(keyedBy: DynamicKey.self, forKey: DynamicKey(object))
        else { return nil }
        do {
            return try nested.decodeIfPresent(String.self, forKey: DynamicKey(key))
        } catch {
            throw ConfigError(source: "", problem: "'\(path)\(object).\(key)' should be of type String")
        }
    }

    func object(_ key: String, allowed: Set<String>, context: String) throws -> ObjectReader? {
        guard container.contains(DynamicKey(key)) else { return nil }
        do {
            let nested = try container.nestedContainer(keyedBy: DynamicKey.self, forKey: DynamicKey(key))
            return try ObjectReader(nested, path: "\(path)\(key).", allowed: allowed, context: context)
        } catch DecodingError.typeMismatch {
            throw ConfigError(source: "", problem: "'\(path)\(key)' should be an object")
        }
    }
}

/// One JSON key of a config object and the property it fills. Each config type lists its
/// fields once; the allowed keys, the decoding and the encoding all come from that list.
struct ConfigField<Root> {
    let key: String
    let read: (ObjectReader, inout Root) throws -> Void
    let write: (Root, inout KeyedEncodingContainer<DynamicKey>) throws -> Void

    init(
        key: String, read: @escaping (ObjectReader, inout Root) throws -> Void,
        write: @escaping (Root, inout KeyedEncodingContainer<DynamicKey>) throws -> Void
    ) {
        self.key = key
        self.read = read
        self.write = write
    }

    /// A value read and written as it is.
    init<Value: Codable>(_ key: String, _ path: WritableKeyPath<Root, Value>) {
        self.init(
            key: key, read: { r, root in try r.read(key, &root[keyPath: path]) },
            write: { root, c in try c.encode(root[keyPath: path], forKey: DynamicKey(key)) })
    }

    /// A nested object with fields of its own (unknown keys in it named with `context`).
    static func object<Nested>(
        _ key: String, _ path: WritableKeyPath<Root, Nested>, fields: [ConfigField<Nested>], context: String
    ) -> ConfigField<Root> {
        ConfigField(
            key: key,
            read: { r, root in
                guard let nested = try r.object(key, allowed: Set(fields.map(\.key)), context: context) else { return }
                for field in fields { try field.read(nested, &root[keyPath: path]) }
            },
            write: { root, c in
                var nested = c.nestedContainer(keyedBy: DynamicKey.self, forKey: DynamicKey(key))
                for field in fields { try field.write(root[keyPath: path], &nested) }
            })
    }

    /// The field of a part (`path`) of a larger config, at the same level.
    func lifted<Outer>(_ path: WritableKeyPath<Outer, Root>) -> ConfigField<Outer> {
        let read = read, write = write
        return ConfigField<Outer>(
            key: key, read: { r, outer in try read(r, &outer[keyPath: path]) },
            write: { outer, c in try write(outer[keyPath: path], &c) })
    }
}

/// What one architecture's config type says about itself and its JSON: its own fields (the
/// common ones are `CommonConfig`'s), the name of its width, the keys of its position embedding
/// and backbone, and its rules.
protocol ArchitectureConfig: Sendable {
    static var architecture: Architecture { get }
    /// The JSON key of the model width (`embed_dim`, `hidden_dim`).
    static var widthKey: String { get }
    /// Its own top-level fields.
    static var ownFields: [ConfigField<Self>] { get }
    /// The fields of its `position_embedding` object.
    static var positionEmbeddingFields: [ConfigField<PositionEmbeddingConfig>] { get }
    /// The backbone families and stage keys it takes.
    static var backboneRules: BackboneRules { get }
    /// The official R50 configuration.
    init()
    var common: CommonConfig { get set }
    var modelConfig: ModelConfig { get }
    var recipe: any DetectorRecipe { get }
    /// Checks its own settings (after the common ones are checked).
    func validateOwn() throws
}

extension ArchitectureConfig {
    /// Every top-level field but `architecture`.
    static var fields: [ConfigField<Self>] {
        CommonConfig.fields(of: Self.self).map { $0.lifted(\.common) } + ownFields
    }

    /// A config of this architecture from a JSON object whose `architecture` names it.
    static func decode(_ c: KeyedDecodingContainer<DynamicKey>) throws -> ModelConfig {
        let fields = fields
        let r = try ObjectReader(
            c, path: "", allowed: Set(fields.map(\.key)).union(["architecture"]), context: architecture.rawValue)
        var config = Self()
        for field in fields { try field.read(r, &config) }
        return config.modelConfig
    }

    func encode(_ c: inout KeyedEncodingContainer<DynamicKey>) throws {
        try c.encode(Self.architecture, forKey: "architecture")
        for field in Self.fields { try field.write(self, &c) }
    }
}

/// One architecture's entry points, for `ModelConfig` to pick by name.
struct ArchitectureEntry: Sendable {
    let architecture: Architecture
    let official: @Sendable () -> ModelConfig
    let decode: @Sendable (KeyedDecodingContainer<DynamicKey>) throws -> ModelConfig

    init<A: ArchitectureConfig>(_: A.Type) {
        architecture = A.architecture
        official = { A().modelConfig }
        decode = { try A.decode($0) }
    }
}

extension ModelConfig: Codable {
    public init(from decoder: Decoder) throws {
        self = try Self.decoded(from: decoder)
    }

    /// The config of the architecture the object names, checked.
    private static func decoded(from decoder: Decoder) throws -> ModelConfig {
        let c = try decoder.container(keyedBy: DynamicKey.self)
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
        var c = encoder.container(keyedBy: DynamicKey.self)
        try body.encode(&c)
    }

    /// Throws unless `numClasses` is known (`numClassesFromDataset` is resolved by training).
    public func requireClassCount(source: String = "") throws {
        guard !common.numClassesFromDataset else {
            throw ConfigError(
                source: source,
                problem: """
                    'num_classes' is "auto", which only detr train resolves (from its dataset); use the config.json \
                    a training run writes, or a number
                    """)
        }
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
    /// The top-level fields every architecture has (the width's name, the position embedding's
    /// and the backbone's keys are the architecture's).
    static func fields<A: ArchitectureConfig>(of _: A.Type) -> [ConfigField<CommonConfig>] {
        let name = A.architecture.rawValue
        return [
            ConfigField(
                key: "num_classes",
                read: { r, c in
                    if (try? r.container.decode(String.self, forKey: "num_classes")) == "auto" {
                        c.numClassesFromDataset = true
                    } else {
                        try r.read("num_classes", &c.numClasses)
                        c.numClassesFromDataset = false
                    }
                },
                write: { c, container in
                    if c.numClassesFromDataset {
                        try container.encode("auto", forKey: "num_classes")
                    } else {
                        try container.encode(c.numClasses, forKey: "num_classes")
                    }
                }),
            ConfigField("num_queries", \.numQueries),
            ConfigField(A.widthKey, \.hiddenDim),
            ConfigField("num_heads", \.numHeads),
            ConfigField("num_encoder_layers", \.numEncoderLayers),
            ConfigField("num_decoder_layers", \.numDecoderLayers),
            ConfigField("dim_feedforward", \.dimFeedforward),
            ConfigField("dropout", \.dropout),
            ConfigField("min_size", \.minSize),
            ConfigField("max_size", \.maxSize),
            ConfigField("num_select", \.numSelect),
            ConfigField("focal_alpha", \.focalAlpha),
            ConfigField("focal_gamma", \.focalGamma),
            ConfigField("loss_weights", \.lossWeights),
            ConfigField(
                key: "backbone", read: { r, c in try c.backbone.read(r, rules: A.backboneRules, architecture: name) },
                write: { c, container in
                    var b = container.nestedContainer(keyedBy: DynamicKey.self, forKey: "backbone")
                    try c.backbone.encode(&b, rules: A.backboneRules)
                }),
            .object(
                "position_embedding", \.positionEmbedding, fields: A.positionEmbeddingFields,
                context: "\(name) position_embedding"),
            .object(
                "matcher", \.matcher,
                fields: [
                    ConfigField("cost_class", \.costClass), ConfigField("cost_bbox", \.costBbox),
                    ConfigField("cost_giou", \.costGiou),
                ], context: "matcher"),
        ]
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
