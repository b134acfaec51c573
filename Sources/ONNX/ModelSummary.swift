import Foundation
import ONNXProto

/// What an ONNX model is, at a glance: versions, producer, the graph's inputs and outputs, its
/// operators and the size of its weights (`detr inspect model.onnx`). JSON keys are snake_case.
public struct ONNXModelSummary: Encodable, Sendable, Equatable {
    /// One entry of `opset_import`; the empty domain is the default one, `ai.onnx`.
    public struct OperatorSet: Encodable, Sendable, Equatable {
        public var domain: String
        public var version: Int64

        public init(domain: String, version: Int64) {
            self.domain = domain
            self.version = version
        }
    }

    /// One dimension of a shape: a fixed size, a symbolic name, or neither (unknown). JSON: a
    /// number, a string or null.
    public enum Dimension: Encodable, Sendable, Equatable, CustomStringConvertible {
        case value(Int64)
        case param(String)
        case unknown

        public var description: String {
            switch self {
            case .value(let n): return String(n)
            case .param(let name): return name
            case .unknown: return "?"
            }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .value(let n): try c.encode(n)
            case .param(let name): try c.encode(name)
            case .unknown: try c.encodeNil()
            }
        }
    }

    /// A graph input or output.
    public struct Value: Encodable, Sendable, Equatable {
        public var name: String
        /// The element type of a tensor ("float32", "int64", ...), or the type spelled out for
        /// others ("sequence<float32>", "map<int64, float32>", "optional<...>", "sparse<float32>").
        public var type: String
        /// Nil when the rank is unknown (and for values that are not tensors).
        public var shape: [Dimension]?

        public init(name: String, type: String, shape: [Dimension]?) {
            self.name = name
            self.type = type
            self.shape = shape
        }

        enum CodingKeys: String, CodingKey { case name, type, shape }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(type, forKey: .type)
            try c.encode(shape, forKey: .shape)  // null when unknown, not left out
        }
    }

    /// How many nodes of the main graph run one operator.
    public struct OperatorCount: Encodable, Sendable, Equatable {
        public var opType: String
        /// Empty for the default domain (`ai.onnx`).
        public var domain: String
        public var count: Int

        public init(opType: String, domain: String, count: Int) {
            self.opType = opType
            self.domain = domain
            self.count = count
        }

        enum CodingKeys: String, CodingKey { case opType = "op_type", domain, count }
    }

    public var irVersion: Int64
    public var opsetImports: [OperatorSet]
    public var producerName: String
    public var producerVersion: String
    public var graphName: String
    /// The graph's inputs, less those that are initializers (models of IR version 3 and older list
    /// every weight as an input too).
    public var inputs: [Value]
    public var outputs: [Value]
    /// By count, largest first, then by operator name.
    public var operators: [OperatorCount]
    /// Nodes of the main graph (not counting those of subgraphs or functions).
    public var nodeCount: Int
    /// Dense and sparse initializers of the main graph.
    public var initializerCount: Int
    /// Their bytes: `raw_data`, the `length` of external data, or the element count times the
    /// element size for values in typed fields (the UTF-8 bytes of strings).
    public var initializerBytes: Int64
    /// Whether any tensor of the model is stored in external data.
    public var usesExternalData: Bool
    /// The external data files the model names (relative to its folder), in order of first use.
    public var externalDataFiles: [String]

    enum CodingKeys: String, CodingKey {
        case irVersion = "ir_version", opsetImports = "opset_imports", producerName = "producer_name"
        case producerVersion = "producer_version", graphName = "graph_name", inputs, outputs, operators
        case nodeCount = "node_count", initializerCount = "initializer_count"
        case initializerBytes = "initializer_bytes", usesExternalData = "uses_external_data"
        case externalDataFiles = "external_data_files"
    }

    public init(_ model: Onnx_ModelProto) {
        irVersion = model.irVersion
        opsetImports = model.opsetImport.map { OperatorSet(domain: $0.domain, version: $0.version) }
        producerName = model.producerName
        producerVersion = model.producerVersion
        let graph = model.graph
        graphName = graph.name
        let initializerNames = Set(graph.initializer.map(\.name) + graph.sparseInitializer.map(\.values.name))
        inputs = graph.input.filter { !initializerNames.contains($0.name) }.map(Self.value)
        outputs = graph.output.map(Self.value)

        var counts: [String: [String: Int]] = [:]  // domain → op_type → count
        for node in graph.node {
            counts[node.domain == "ai.onnx" ? "" : node.domain, default: [:]][node.opType, default: 0] += 1
        }
        operators = counts.flatMap { domain, ops in
            ops.map { OperatorCount(opType: $0.key, domain: domain, count: $0.value) }
        }.sorted {
            ($0.count, $1.opType, $1.domain) > ($1.count, $0.opType, $0.domain)
        }
        nodeCount = graph.node.count

        initializerCount = graph.initializer.count + graph.sparseInitializer.count
        var bytes: Int64 = 0
        for t in graph.initializer { bytes += Self.byteCount(t) }
        for s in graph.sparseInitializer { bytes += Self.byteCount(s.values) + Self.byteCount(s.indices) }
        initializerBytes = bytes

        var files: [String] = []
        ONNXModelFile.forEachTensor(in: model) { tensor in
            guard tensor.dataLocation == .external else { return }
            let location = tensor.externalData.first { $0.key == "location" }?.value ?? ""
            if !files.contains(location) { files.append(location) }
        }
        usesExternalData = !files.isEmpty
        externalDataFiles = files
    }

    // MARK: - Types and sizes

    /// A readable name of an `onnx.TensorProto.DataType` value: "float32", "int64", "bfloat16", ...
    public static func elementTypeName(_ raw: Int32) -> String {
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(raw)) else { return "type \(raw)" }
        switch type {
        case .undefined: return "undefined"
        case .float: return "float32"
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .string: return "string"
        case .bool: return "bool"
        case .float16: return "float16"
        case .double: return "float64"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .complex64: return "complex64"
        case .complex128: return "complex128"
        case .bfloat16: return "bfloat16"
        case .float8E4M3Fn: return "float8e4m3fn"
        case .float8E4M3Fnuz: return "float8e4m3fnuz"
        case .float8E5M2: return "float8e5m2"
        case .float8E5M2Fnuz: return "float8e5m2fnuz"
        case .uint4: return "uint4"
        case .int4: return "int4"
        case .float4E2M1: return "float4e2m1"
        case .float8E8M0: return "float8e8m0"
        case .uint2: return "uint2"
        case .int2: return "int2"
        case .float6E2M3: return "float6e2m3"
        case .float6E3M2: return "float6e3m2"
        }
    }

    /// Bits per element of an `onnx.TensorProto.DataType` value; nil for strings and unknown types.
    public static func elementBits(_ raw: Int32) -> Int? {
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(raw)) else { return nil }
        switch type {
        case .undefined, .string: return nil
        case .uint2, .int2: return 2
        case .uint4, .int4, .float4E2M1: return 4
        case .float6E2M3, .float6E3M2: return 6
        case .uint8, .int8, .bool, .float8E4M3Fn, .float8E4M3Fnuz, .float8E5M2, .float8E5M2Fnuz, .float8E8M0: return 8
        case .uint16, .int16, .float16, .bfloat16: return 16
        case .float, .int32, .uint32: return 32
        case .int64, .uint64, .double, .complex64: return 64
        case .complex128: return 128
        }
    }

    /// The bytes of a tensor's values, wherever they are stored.
    static func byteCount(_ t: Onnx_TensorProto) -> Int64 {
        if t.dataLocation == .external {
            return t.externalData.first { $0.key == "length" }.flatMap { Int64($0.value) } ?? 0
        }
        if t.hasRawData { return Int64(t.rawData.count) }
        if t.dataType == Onnx_TensorProto.DataType.string.rawValue {
            return t.stringData.reduce(0) { $0 + Int64($1.count) }
        }
        guard let bits = elementBits(t.dataType) else { return 0 }
        let elements = t.dims.reduce(Int64(1)) { $0 * max(0, $1) }
        return (elements * Int64(bits) + 7) / 8
    }

    static func value(_ info: Onnx_ValueInfoProto) -> Value {
        let (type, shape) = describe(info.type)
        return Value(name: info.name, type: type, shape: shape)
    }

    /// The type of a value spelled out, and the shape when it is a tensor of known rank.
    static func describe(_ type: Onnx_TypeProto) -> (String, [Dimension]?) {
        func shape(_ has: Bool, _ s: Onnx_TensorShapeProto) -> [Dimension]? {
            guard has else { return nil }
            return s.dim.map { d in
                switch d.value {
                case .dimValue(let n)?: return .value(n)
                case .dimParam(let name)? where !name.isEmpty: return .param(name)
                default: return .unknown
                }
            }
        }
        switch type.value {
        case .tensorType(let t)?:
            return (elementTypeName(t.elemType), shape(t.hasShape, t.shape))
        case .sparseTensorType(let t)?:
            return ("sparse<\(elementTypeName(t.elemType))>", shape(t.hasShape, t.shape))
        case .sequenceType(let s)?:
            return ("sequence<\(describe(s.elemType).0)>", nil)
        case .optionalType(let o)?:
            return ("optional<\(describe(o.elemType).0)>", nil)
        case .mapType(let m)?:
            return ("map<\(elementTypeName(m.keyType)), \(describe(m.valueType).0)>", nil)
        case .opaqueType(let o)?:
            return ("opaque<\(o.domain.isEmpty ? o.name : o.domain + "." + o.name)>", nil)
        case nil:
            return ("unknown", nil)
        }
    }
}
