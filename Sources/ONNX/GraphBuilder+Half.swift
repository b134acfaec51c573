import Torch

/// Float16 export. The recording is float32; in a float16 graph each recorded node computes in
/// float16 or float32 by one rule, and casts join the two where a value crosses:
/// - float32: normalisation layers; the box heads (linear layers whose weight name holds "bbox")
///   and what follows them on float32 values alone; sigmoid, exp, log, sin, cos (reference points,
///   inverse sigmoids, position embeddings, whose arguments overflow float16); selections (top-k,
///   sort, arg-max, cumulative sums, NMS), so rankings are taken on float32 scores; every node
///   whose float operands are all float32 values (geometry made from the image sizes, the padding
///   mask's position embeddings, the post-processing's scaling), weights and constants not counted.
/// - float16: the matrix products, convolutions, sampling and attention, and elementwise nodes
///   with a float16 operand.
/// Weights read only by float16 nodes are stored as float16; graph inputs and outputs keep their
/// recorded types.
extension GraphBuilder {
    /// Decides the computing type of every node in `order` and the stored type of every weight.
    func planHalf(_ order: [Int]) {
        var consumers: [Int: [Int]] = [:]
        for n in order {
            let node = trace.nodes[n]
            for case let i? in node.inputs { consumers[i, default: []].append(n) }
            let region = halfRegion(node)
            computeType[n] = region
            for o in node.outputs where trace.values[o].dtype == .float32 { valueType[o] = region }
        }
        // Slices and reshapes of weights alone (an attention's packed projection, say) take the
        // type of their readers, so the weights they read can be stored as float16 too.
        var weightOnly = Set(trace.initializers.map(\.value))
        for n in order {
            let node = trace.nodes[n]
            if node.op.isLayout, node.inputs.allSatisfy({ $0.map { weightOnly.contains($0) } ?? true }) {
                weightOnly.formUnion(node.outputs)
            }
        }
        for n in order.reversed() {
            let node = trace.nodes[n]
            guard node.op.isLayout, node.outputs.allSatisfy({ weightOnly.contains($0) }) else { continue }
            let readers = node.outputs.flatMap { consumers[$0] ?? [] }
            guard !readers.isEmpty, readers.allSatisfy({ computeType[$0] == .float16 }) else { continue }
            computeType[n] = .float16
            for o in node.outputs where trace.values[o].dtype == .float32 { valueType[o] = .float16 }
        }
        for (_, value, _) in trace.initializers where trace.values[value].dtype == .float32 {
            let readers = consumers[value] ?? []
            valueType[value] = !readers.isEmpty && readers.allSatisfy({ computeType[$0] == .float16 }) ? .float16 : .float32
        }
    }

    private func halfRegion(_ node: OperationTrace.Node) -> DType {
        switch node.op {
        case .layerNorm, .groupNorm, .batchNorm, .topk, .sort, .argmax, .maxDim, .cumsum, .cumprod,
            .nonMaximumSuppression:
            return .float32
        case .unary(let u) where [.sigmoid, .exp, .log, .sin, .cos, .log1p, .expm1, .atan].contains(u):
            return .float32
        case .linear, .matmul, .bmm, .baddbmm, .einsum:
            let readsBoxHead = node.inputs.contains { id in
                guard let id, case .initializer(let name) = trace.values[id].origin else { return false }
                return name.contains("bbox")
            }
            if readsBoxHead { return .float32 }
            return .float16
        case .conv2d, .gridSample, .scaledDotProductAttention, .softmax, .logSoftmax, .embedding:
            return .float16
        default:
            let floats = node.inputs.compactMap { $0 }.filter { id in
                guard trace.values[id].dtype == .float32 else { return false }
                switch trace.values[id].origin {
                case .initializer: return false
                case .input: return true
                case .node(let p, _): return trace.nodes[p].op.isConstant == false
                }
            }
            return floats.contains { valueType[$0] == .float16 } ? .float16 : .float32
        }
    }
}

extension TracedOp {
    /// Moves or selects elements without arithmetic.
    var isLayout: Bool {
        switch self {
        case .reshape, .permute, .expand, .repeat, .flip, .cat, .stack, .slice, .select, .identity, .copy: true
        default: false
        }
    }

    var isConstant: Bool {
        switch self {
        case .constant, .full: true
        default: false
        }
    }
}
