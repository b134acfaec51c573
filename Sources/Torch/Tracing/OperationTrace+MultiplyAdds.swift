/// Multiply-adds of a recorded computation, by stage.
public struct MultiplyAddCount: Sendable, Equatable {
    /// All multiply-adds.
    public var total: Int
    /// Per stage label, in the order the stages first ran; nodes recorded outside any label
    /// count under "other".
    public var stages: [(name: String, count: Int)]

    public static func == (a: Self, b: Self) -> Bool {
        a.total == b.total && a.stages.map(\.name) == b.stages.map(\.name) && a.stages.map(\.count) == b.stages.map(\.count)
    }
}

extension OperationTrace {
    /// The multiply-adds of the recorded operators, counted as fvcore counts FLOPs (one per
    /// multiply-add) for the operators that multiply matrices: convolutions (output elements ·
    /// input channels per group · kernel area), linear layers (output elements · input
    /// features), matrix products and batched products (output elements · the contracted
    /// size), `einsum` of two operands (the product of the sizes of every index), and attention
    /// (its two products, q·kᵀ and weights·v). Elementwise operators, sampling, pooling and
    /// normalisation count nothing.
    ///
    /// - Parameter heads: a linear layer whose weight is an initializer with a name for which
    ///   this is true counts under "heads" whatever its stage (detection heads run inside the
    ///   decoder)
    public func multiplyAdds(heads: (String) -> Bool = { _ in false }) -> MultiplyAddCount {
        var byStage: [String: Int] = [:]
        var order: [String] = []
        var total = 0
        for node in nodes {
            let count = multiplyAdds(of: node)
            guard count > 0 else { continue }
            var stage = node.stage ?? "other"
            if case .linear = node.op, let w = node.inputs.count > 1 ? node.inputs[1] : nil,
                case .initializer(let name) = values[w].origin, heads(name)
            {
                stage = "heads"
            }
            if byStage[stage] == nil { order.append(stage) }
            byStage[stage, default: 0] += count
            total += count
        }
        return MultiplyAddCount(total: total, stages: order.map { ($0, byStage[$0]!) })
    }

    /// Multiply-adds of one node (0 for operators that multiply no matrices, or whose operand
    /// shapes the recording does not hold).
    func multiplyAdds(of node: Node) -> Int {
        func shape(_ i: Int) -> [Int]? {
            guard i < node.inputs.count, let id = node.inputs[i] else { return nil }
            return values[id].shape
        }
        guard let out = node.outputs.first.map({ values[$0].shape }) else { return 0 }
        let outCount = out.reduce(1, *)
        switch node.op {
        case .conv2d:
            guard let w = shape(1), w.count == 4 else { return 0 }
            return outCount * w[1] * w[2] * w[3]
        case .linear:
            guard let w = shape(1), w.count == 2 else { return 0 }
            return outCount * w[1]
        case .matmul, .bmm, .baddbmm:
            // baddbmm's operands are (self, batch1, batch2).
            let a = node.op.isBaddbmm ? shape(1) : shape(0)
            guard let k = a?.last else { return 0 }
            return outCount * k
        case .scaledDotProductAttention:
            guard let q = shape(0), let k = shape(1), let v = shape(2), q.count >= 2, k.count >= 2 else { return 0 }
            let batch = q.dropLast(2).reduce(1, *)
            let (l, e, s, ev) = (q[q.count - 2], q[q.count - 1], k[k.count - 2], v[v.count - 1])
            return batch * l * s * (e + ev)
        case .einsum(let equation):
            return Self.einsumMultiplyAdds(equation, shapes: (0..<node.inputs.count).compactMap(shape))
        default:
            return 0
        }
    }

    /// An `einsum` of two operands: the product of the sizes of all its indices (each output
    /// element sums over the contracted ones). Other forms count 0.
    static func einsumMultiplyAdds(_ equation: String, shapes: [[Int]]) -> Int {
        let sides = equation.replacingOccurrences(of: " ", with: "").components(separatedBy: "->")
        let operands = sides[0].split(separator: ",").map(Array.init)
        guard operands.count == 2, shapes.count == 2, !sides[0].contains(".") else { return 0 }
        var size: [Character: Int] = [:]
        for (letters, dims) in zip(operands, shapes) where letters.count == dims.count {
            for (c, d) in zip(letters, dims) { size[c] = d }
        }
        return size.values.reduce(1, *)
    }
}

extension TracedOp {
    var isBaddbmm: Bool {
        if case .baddbmm = self { return true }
        return false
    }
}
