import Foundation
import ONNXProto
import Torch

/// Builds an ONNX graph from an `OperationTrace`: each recorded operator becomes the standard
/// ONNX operators that compute the same values (`GraphBuilder+*.swift`), for the outputs asked
/// for only (nodes nothing asked for depends on are left out). Declared weights become
/// initializers under their names; constants become `Constant` nodes.
final class GraphBuilder {
    let trace: OperationTrace
    let opset: Int
    private(set) var nodes: [Onnx_NodeProto] = []
    /// ONNX name of each lowered value.
    private var names: [Int: String] = [:]
    private var constants: [String: String] = [:]
    private var counter = 0
    private(set) var problems: [String] = []
    /// The node being lowered (for names and messages).
    private var current = 0
    /// Float16 graph (`GraphBuilder+Half.swift`): the float type each recorded node computes in
    /// and each float32 value has in the graph.
    var half = false
    var computeType: [Int: DType] = [:]
    var valueType: [Int: DType] = [:]
    /// While a node is lowered in a float16 graph: its float type, and its operands' converted names.
    private var currentType: DType?
    private var overrides: [Int: String] = [:]
    private var converted: [String: String] = [:]

    init(trace: OperationTrace, opset: Int) {
        self.trace = trace
        self.opset = opset
    }

    // MARK: values

    func shape(_ id: Int) -> [Int] { trace.values[id].shape }
    /// The value's type in the graph (in a float16 graph, float32 values of float16 nodes are
    /// float16).
    func dtype(_ id: Int) -> DType {
        let t = trace.values[id].dtype
        guard half, t == .float32 else { return t }
        return currentType ?? valueType[id] ?? t
    }

    /// The ONNX name of value `id`.
    func name(_ id: Int) -> String {
        if let n = overrides[id] ?? names[id] { return n }
        switch trace.values[id].origin {
        case .input(let n), .initializer(let n): return n
        case .node: return "v\(id)"
        }
    }

    func bind(_ id: Int, to name: String) { names[id] = name }

    func fresh(_ hint: String) -> String {
        counter += 1
        return "n\(current)_\(hint)_\(counter)"
    }

    func problem(_ message: String) { problems.append(message) }

    // MARK: emitting

    /// Appends one ONNX node and returns its output names.
    @discardableResult
    func emit(
        _ opType: String, _ inputs: [String], outputs: Int = 1, attributes: [Onnx_AttributeProto] = []
    ) -> [String] {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = "\(opType)_\(nodes.count)"
        node.input = inputs
        node.output = (0..<outputs).map { _ in fresh(opType) }
        node.attribute = attributes
        nodes.append(node)
        return node.output
    }

    /// Appends one ONNX node with one output.
    func op(_ opType: String, _ inputs: String..., attributes: [Onnx_AttributeProto] = []) -> String {
        emit(opType, inputs, attributes: attributes)[0]
    }

    // MARK: constants

    /// A 1-D int64 constant.
    func ints(_ values: [Int]) -> String {
        constant(key: "i64:\(values)", ONNXTensor.make(values.map(Int64.init), shape: [values.count]))
    }

    /// A 0-d int64 constant.
    func intScalar(_ value: Int) -> String {
        constant(key: "i64s:\(value)", ONNXTensor.make([Int64(value)], shape: []))
    }

    /// A 0-d constant of `dtype` holding `value`.
    func scalar(_ value: Double, _ dtype: DType) -> String {
        constant(key: "s:\(dtype):\(value.bitPattern)", ONNXTensor.scalar(value, dtype: dtype))
    }

    func scalar(_ value: TracedScalar, _ dtype: DType) -> String {
        switch value {
        case .int(let i) where !dtype.isFloatingPoint:
            return constant(key: "si:\(dtype):\(i)", ONNXTensor.integerScalar(i, dtype: dtype))
        default: return scalar(value.doubleValue, dtype)
        }
    }

    /// A `Constant` node holding `tensor` (the same key gives the same node).
    func constant(key: String, _ tensor: Onnx_TensorProto) -> String {
        if let n = constants[key] { return n }
        var attribute = Onnx_AttributeProto()
        attribute.name = "value"
        attribute.type = .tensor
        attribute.t = tensor
        counter += 1
        var node = Onnx_NodeProto()
        node.opType = "Constant"
        node.name = "Constant_\(nodes.count)"
        node.output = ["c\(counter)"]
        node.attribute = [attribute]
        nodes.append(node)
        constants[key] = node.output[0]
        return node.output[0]
    }

    /// `value` cast to `to` (itself when it has that dtype already).
    func cast(_ value: String, from: DType, to: DType) -> String {
        from == to ? value : op("Cast", value, attributes: [.int("to", Int(ONNXTensor.dataType(to)))])
    }

    /// The operand `id` cast to `to`.
    func operand(_ id: Int, as to: DType) -> String { cast(name(id), from: dtype(id), to: to) }

    // MARK: lowering

    /// Lowers the nodes that `outputs` depend on.
    func lower(outputs: [Int]) {
        var needed = Set<Int>()
        var stack = outputs.compactMap { trace.producer(of: $0) }
        while let n = stack.popLast() {
            guard needed.insert(n).inserted else { continue }
            for case let i? in trace.nodes[n].inputs {
                if let p = trace.producer(of: i) { stack.append(p) }
            }
        }
        let order = needed.sorted()
        if half { planHalf(order) }
        for n in order {
            current = n
            let node = trace.nodes[n]
            guard half, let type = computeType[n] else {
                lower(node)
                continue
            }
            for case let i? in node.inputs where trace.values[i].dtype == .float32 {
                let have = valueType[i] ?? .float32
                guard have != type else { continue }
                let key = "\(i)>\(type)"
                if converted[key] == nil { converted[key] = cast(name(i), from: have, to: type) }
                overrides[i] = converted[key]
            }
            currentType = type
            lower(node)
            currentType = nil
            overrides.removeAll()
        }
    }

    /// The name of value `id` with its recorded type (a cast after a float16 value).
    func recordedTypeName(_ id: Int) -> String {
        let have = dtype(id), recorded = trace.values[id].dtype
        return cast(name(id), from: have, to: recorded)
    }

    /// The weights the lowered nodes read.
    func usedInitializers() -> [(name: String, tensor: Tensor)] {
        let read = Set(nodes.flatMap(\.input))
        return trace.initializers.filter { read.contains($0.name) }.map {
            (name: $0.name, tensor: dtype($0.value) == $0.tensor.dtype ? $0.tensor : $0.tensor.to(dtype($0.value)))
        }
    }
}

extension Onnx_AttributeProto {
    /// An attribute named `name` of `type`, its value set by `set`.
    private static func make(
        _ name: String, _ type: AttributeType, _ set: (inout Onnx_AttributeProto) -> Void
    ) -> Onnx_AttributeProto {
        Onnx_AttributeProto.with {
            $0.name = name
            $0.type = type
            set(&$0)
        }
    }
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto { make(name, .int) { $0.i = Int64(value) } }
    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        make(name, .ints) { $0.ints = values.map(Int64.init) }
    }
    static func float(_ name: String, _ value: Double) -> Onnx_AttributeProto {
        make(name, .float) { $0.f = Float(value) }
    }
    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
        make(name, .string) { $0.s = Data(value.utf8) }
    }
    static func tensor(_ name: String, _ value: Onnx_TensorProto) -> Onnx_AttributeProto {
        make(name, .tensor) { $0.t = value }
    }
}
