import ONNXProto
import Torch

extension GraphBuilder {
    /// Lowers one recorded operator; binds its outputs' names.
    func lower(_ node: OperationTrace.Node) {
        let ins = node.inputs
        let outs = node.outputs
        let out = outs.first ?? 0
        let outType = dtype(out), outShape = shape(out)
        func input(_ i: Int) -> Int? { i < ins.count ? ins[i] : nil }
        func x(_ i: Int = 0) -> Int { ins[i]! }
        func set(_ n: String) { bind(out, to: n) }

        switch node.op {
        case .binary(let op):
            set(binary(op, name(x(0)), dtype(x(0)), name(x(1)), dtype(x(1)), result: outType))
        case .binaryScalar(let op, let s, let scalarFirst):
            let t = x(0)
            let st = scalarType(tensor: dtype(t), scalar: s, op: op, result: outType)
            let c = scalar(s, st)
            set(
                scalarFirst
                    ? binary(op, c, st, name(t), dtype(t), result: outType)
                    : binary(op, name(t), dtype(t), c, st, result: outType))
        case .unary(let op):
            set(unary(op, x(), result: outType))
        case .leakyRelu(let slope):
            set(op("LeakyRelu", operand(x(), as: outType), attributes: [.float("alpha", slope)]))
        case .clamp(let lo, let hi):
            let v = operand(x(), as: outType)
            set(
                emit(
                    "Clip", [v, lo.map { scalar($0, outType) } ?? "", hi.map { scalar($0, outType) } ?? ""])[0])
        case .where:
            set(op("Where", operand(x(0), as: .bool), operand(x(1), as: outType), operand(x(2), as: outType)))
        case .maskedFill(let v):
            set(op("Where", operand(x(1), as: .bool), scalar(v, outType), operand(x(0), as: outType)))
        case .lerp(let w):
            let a = operand(x(0), as: outType), b = operand(x(1), as: outType)
            set(op("Add", a, op("Mul", op("Sub", b, a), scalar(w, outType))))
        case .addcmul(let v):
            let prod = op("Mul", operand(x(1), as: outType), operand(x(2), as: outType))
            set(op("Add", operand(x(0), as: outType), v == 1 ? prod : op("Mul", prod, scalar(v, outType))))
        case .addScaled(let alpha):
            set(op("Add", operand(x(0), as: outType), op("Mul", operand(x(1), as: outType), scalar(alpha, outType))))
        case .softmax(let dim):
            set(op("Softmax", operand(x(), as: outType), attributes: [.int("axis", dim)]))
        case .logSoftmax(let dim):
            set(op("LogSoftmax", operand(x(), as: outType), attributes: [.int("axis", dim)]))

        case .reduce(let r, let dims, let keepDim):
            set(reduce(r, x(), dims: dims, keepDim: keepDim, result: outType))
        case .maxDim(let dim, let keepDim, let isMax):
            let v = name(x())
            bind(outs[0], to: reduceOp(isMax ? "ReduceMax" : "ReduceMin", v, axes: [dim], keepDim: keepDim))
            bind(
                outs[1],
                to: op(isMax ? "ArgMax" : "ArgMin", v, attributes: [.int("axis", dim), .int("keepdims", keepDim ? 1 : 0)]))
        case .argmax(let dim, let keepDim, let isMax):
            var v = name(x())
            var axis = dim ?? 0
            if dim == nil { v = op("Reshape", v, ints([-1])); axis = 0 }
            var r = op(isMax ? "ArgMax" : "ArgMin", v, attributes: [.int("axis", axis), .int("keepdims", keepDim ? 1 : 0)])
            if dim == nil { r = op("Reshape", r, ints(outShape)) }
            set(r)
        case .cumsum(let dim):
            set(op("CumSum", operand(x(), as: outType), intScalar(dim)))
        case .topk(let k, let dim, let largest, _):
            let r = orderedTopK(name(x()), shape: shape(x()), k: k, axis: dim, largest: largest)
            bind(outs[0], to: r.values)
            bind(outs[1], to: r.indices)
        case .sort(let dim, let descending, _, let indicesOnly):
            let d = dim < 0 ? dim + shape(x()).count : dim
            let r = orderedTopK(name(x()), shape: shape(x()), k: shape(x())[d], axis: d, largest: descending)
            if indicesOnly {
                set(r.indices)
            } else {
                bind(outs[0], to: r.values)
                bind(outs[1], to: r.indices)
            }

        case .reshape:
            set(shape(x()) == outShape ? name(x()) : op("Reshape", name(x()), ints(outShape)))
        case .permute(let perm):
            set(perm == Array(0..<perm.count) ? name(x()) : op("Transpose", name(x()), attributes: [.ints("perm", perm)]))
        case .expand:
            set(shape(x()) == outShape ? name(x()) : op("Expand", name(x()), ints(outShape)))
        case .repeat(let r):
            let s = shape(x())
            var v = name(x())
            if r.count > s.count { v = op("Reshape", v, ints(Array(repeating: 1, count: r.count - s.count) + s)) }
            set(op("Tile", v, ints(r)))
        case .repeatInterleave(let repeats, let dim):
            let s = shape(x())
            let d = dim < 0 ? dim + s.count : dim
            var expanded = s
            expanded.insert(repeats, at: d + 1)
            var unsq = s
            unsq.insert(1, at: d + 1)
            set(op("Reshape", op("Expand", op("Reshape", name(x()), ints(unsq)), ints(expanded)), ints(outShape)))
        case .flip(let dims):
            let rank = shape(x()).count
            let axes = dims.map { $0 < 0 ? $0 + rank : $0 }
            set(
                emit(
                    "Slice",
                    [
                        name(x()), ints(axes.map { _ in -1 }), ints(axes.map { _ in Int(Int64.min) }), ints(axes),
                        ints(axes.map { _ in -1 }),
                    ])[0])
        case .roll(let shift, let dim):
            let s = shape(x())
            let d = dim < 0 ? dim + s.count : dim
            let n = s[d]
            let k = n == 0 ? 0 : ((shift % n) + n) % n
            if k == 0 {
                set(name(x()))
            } else {
                let tail = emit("Slice", [name(x()), ints([n - k]), ints([n]), ints([d])])[0]
                let head = emit("Slice", [name(x()), ints([0]), ints([n - k]), ints([d])])[0]
                set(emit("Concat", [tail, head], attributes: [.int("axis", d)])[0])
            }
        case .triangle(let diagonal, let upper):
            set(emit("Trilu", [name(x()), intScalar(diagonal)], attributes: [.int("upper", upper ? 1 : 0)])[0])
        case .cat(let dim):
            let parts = ins.compactMap { $0 }.filter { shape($0).count == outShape.count }
            let d = dim < 0 ? dim + outShape.count : dim
            set(emit("Concat", parts.map { operand($0, as: outType) }, attributes: [.int("axis", d)])[0])
        case .stack(let dim):
            let d = dim < 0 ? dim + outShape.count : dim
            let parts = ins.compactMap { $0 }.map { op("Unsqueeze", operand($0, as: outType), ints([d])) }
            set(emit("Concat", parts, attributes: [.int("axis", d)])[0])
        case .slice(let dim, let start, let end, let step):
            let n = shape(x())[dim]
            if start == 0 && end >= n && step == 1 {
                set(name(x()))
            } else {
                set(emit("Slice", [name(x()), ints([start]), ints([end]), ints([dim]), ints([step])])[0])
            }
        case .select(let dim, let index):
            set(op("Gather", name(x()), intScalar(index), attributes: [.int("axis", dim)]))
        case .meshgrid:
            let (n, m) = (shape(x(0)).reduce(1, *), shape(x(1)).reduce(1, *))
            bind(outs[0], to: op("Expand", op("Reshape", name(x(0)), ints([n, 1])), ints([n, m])))
            bind(outs[1], to: op("Expand", op("Reshape", name(x(1)), ints([1, m])), ints([n, m])))

        case .indexSelect(let dim):
            let d = dim < 0 ? dim + shape(x(0)).count : dim
            set(op("Gather", name(x(0)), operand(x(1), as: .int64), attributes: [.int("axis", d)]))
        case .gather(let dim):
            let d = dim < 0 ? dim + shape(x(0)).count : dim
            set(op("GatherElements", name(x(0)), operand(x(1), as: .int64), attributes: [.int("axis", d)]))
        case .scatter(let dim, let add):
            let d = dim < 0 ? dim + shape(x(0)).count : dim
            var src = operand(x(2), as: outType)
            let indexShape = shape(x(1))
            if shape(x(2)) != indexShape {
                src = emit(
                    "Slice",
                    [src, ints(indexShape.map { _ in 0 }), ints(indexShape), ints(Array(0..<indexShape.count))])[0]
            }
            var attributes: [Onnx_AttributeProto] = [.int("axis", d)]
            if add { attributes.append(.string("reduction", "add")) }
            set(
                emit(
                    "ScatterElements", [operand(x(0), as: outType), operand(x(1), as: .int64), src],
                    attributes: attributes)[0])
        case .index:
            lowerIndex(ins, out: out)

        case .matmul, .bmm:
            set(op("MatMul", operand(x(0), as: outType), operand(x(1), as: outType)))
        case .baddbmm(let beta, let alpha):
            var prod = op("MatMul", operand(x(1), as: outType), operand(x(2), as: outType))
            if alpha != 1 { prod = op("Mul", prod, scalar(alpha, outType)) }
            if beta == 0 {
                set(prod)
            } else {
                var s = operand(x(0), as: outType)
                if beta != 1 { s = op("Mul", s, scalar(beta, outType)) }
                set(op("Add", s, prod))
            }
        case .linear(let activation):
            var y = op("MatMul", operand(x(0), as: outType), op("Transpose", operand(x(1), as: outType)))
            if let b = input(2) { y = op("Add", y, operand(b, as: outType)) }
            switch activation {
            case "relu": y = op("Relu", y)
            case "gelu": y = gelu(y, outType)
            default: break
            }
            set(y)
        case .einsum(let equation):
            set(
                emit(
                    "Einsum", ins.compactMap { $0 }.map { operand($0, as: outType) },
                    attributes: [.string("equation", equation)])[0])

        case .conv2d(let stride, let padding, let dilation, let groups):
            var inputs = [operand(x(0), as: outType), operand(x(1), as: outType)]
            if let b = input(2) { inputs.append(operand(b, as: outType)) }
            let kernel = Array(shape(x(1)).suffix(2))
            set(
                emit(
                    "Conv", inputs,
                    attributes: [
                        .ints("kernel_shape", kernel), .ints("strides", stride),
                        .ints("pads", padding + padding), .ints("dilations", dilation), .int("group", groups),
                    ])[0])
        case .maxPool2d(let kernel, let stride, let padding, let dilation, let ceilMode):
            set(
                emit(
                    "MaxPool", [name(x())],
                    attributes: [
                        .ints("kernel_shape", kernel), .ints("strides", stride), .ints("pads", padding + padding),
                        .ints("dilations", dilation), .int("ceil_mode", ceilMode ? 1 : 0),
                    ])[0])
        case .avgPool2d(let kernel, let stride, let padding):
            set(
                emit(
                    "AveragePool", [name(x())],
                    attributes: [
                        .ints("kernel_shape", kernel), .ints("strides", stride), .ints("pads", padding + padding),
                        .int("count_include_pad", 1),
                    ])[0])
        case .adaptiveAvgPool2d(let size):
            let s = shape(x())
            let (h, w) = (s[s.count - 2], s[s.count - 1])
            if size == [1, 1] {
                set(op("GlobalAveragePool", name(x())))
            } else if h % size[0] == 0 && w % size[1] == 0 {
                let k = [h / size[0], w / size[1]]
                set(emit("AveragePool", [name(x())], attributes: [.ints("kernel_shape", k), .ints("strides", k)])[0])
            } else {
                problem("adaptive average pooling from \(h)x\(w) to \(size[0])x\(size[1]) (not a whole factor)")
            }
        case .interpolate(let size, let mode, let alignCorners):
            set(interpolate(x(), size: size, mode: mode, alignCorners: alignCorners, result: outShape))
        case .gridSample(let nearest, let padding, let alignCorners):
            let paddingName =
                switch padding {
                case .zeros: "zeros"
                case .border: "border"
                case .reflection: "reflection"
                }
            set(
                emit(
                    "GridSample", [name(x(0)), operand(x(1), as: dtype(x(0)))],
                    attributes: [
                        .string("mode", nearest ? "nearest" : "bilinear"), .string("padding_mode", paddingName),
                        .int("align_corners", alignCorners ? 1 : 0),
                    ])[0])
        case .layerNorm(let normalized, let eps):
            set(layerNorm(x(), axes: normalized.count, weight: input(1), bias: input(2), eps: eps, result: outType))
        case .groupNorm(let groups, let eps):
            set(groupNorm(x(), groups: groups, weight: input(1), bias: input(2), eps: eps, result: outType))
        case .batchNorm(let training, let eps):
            guard !training else { return problem("batch normalisation in training mode") }
            let c = shape(x())[1]
            let w = input(1).map { operand($0, as: outType) } ?? constantFill(1, [c], outType)
            let b = input(2).map { operand($0, as: outType) } ?? constantFill(0, [c], outType)
            guard let mean = input(3), let variance = input(4) else {
                return problem("batch normalisation without running statistics")
            }
            set(
                emit(
                    "BatchNormalization",
                    [operand(x(), as: outType), w, b, operand(mean, as: outType), operand(variance, as: outType)],
                    attributes: [.float("epsilon", eps)])[0])
        case .dropout(_, let training):
            if training { problem("dropout in training mode") }
            set(name(x()))
        case .embedding:
            set(op("Gather", name(x(1)), operand(x(0), as: .int64), attributes: [.int("axis", 0)]))
        case .pad(let pads, let value):
            let rank = shape(x()).count
            var begin = [Int](repeating: 0, count: rank), end = begin
            for i in 0..<(pads.count / 2) {
                begin[rank - 1 - i] = pads[2 * i]
                end[rank - 1 - i] = pads[2 * i + 1]
            }
            set(emit("Pad", [operand(x(), as: outType), ints(begin + end), scalar(value, outType)])[0])
        case .pixelShuffle(let factor):
            set(op("DepthToSpace", name(x()), attributes: [.int("blocksize", factor), .string("mode", "CRD")]))
        case .scaledDotProductAttention(let scale):
            set(attention(q: x(0), k: x(1), v: x(2), mask: input(3), scale: scale, result: outType))

        case .nonMaximumSuppression(let threshold):
            set(nonMaximumSuppression(boxes: x(0), scores: x(1), groups: x(2), iouThreshold: threshold))

        case .copy:
            let src = operand(x(1), as: outType)
            set(shape(x(1)) == outShape ? op("Identity", src) : op("Expand", src, ints(outShape)))
        case .cast:
            set(operand(x(), as: outType))
        case .identity:
            set(name(x()))
        case .full(let v):
            set(constantFill(v, outShape, outType))
        case .constant:
            let t = node.constant!
            set(constant(key: "t\(out)", ONNXTensor.make(t.dtype == outType ? t : t.to(outType))))

        case .variance, .cumprod, .indexAdd, .maskedSelect, .nonzero, .indexPut, .cdist, .oneHot, .asStrided,
            .unsupported:
            problem("\(node.op.name) has no ONNX form here (recorded shape \(outShape))")
        }
    }

    /// A constant of `shape` filled with `value`.
    /// The k largest (smallest) along `axis`, equal values in the order of their indices — the
    /// rule of ONNX's TopK, which not every runtime keeps (OpenVINO leaves ties in any order).
    /// So no runtime's tie order is relied on: a full TopK sorts the values; the runs of equal
    /// values in that order are numbered (a CumSum of where the value changes); and a second
    /// TopK, smallest first, on the int64 keys run · n + index — all distinct — puts every run
    /// in index order.
    func orderedTopK(_ x: String, shape: [Int], k: Int, axis: Int, largest: Bool) -> (values: String, indices: String) {
        let d = axis < 0 ? axis + shape.count : axis
        let n = shape[d]
        let sorted = emit(
            "TopK", [x, ints([n])], outputs: 2,
            attributes: [.int("axis", d), .int("largest", largest ? 1 : 0), .int("sorted", 1)])
        guard n > 1 else { return (sorted[0], sorted[1]) }
        func along(_ v: String, _ start: Int, _ end: Int) -> String {
            op("Slice", v, ints([start]), ints([end]), ints([d]))
        }
        let changed = cast(
            op("Not", op("Equal", along(sorted[0], 1, n), along(sorted[0], 0, n - 1))), from: .bool, to: .int64)
        var first = shape
        first[d] = 1
        let run = op(
            "CumSum", op("Concat", constantFill(.int(0), first, .int64), changed, attributes: [.int("axis", d)]),
            intScalar(d))
        let key = op("Add", op("Mul", run, intScalar(n)), sorted[1])
        let order = emit(
            "TopK", [key, ints([k])], outputs: 2, attributes: [.int("axis", d), .int("largest", 0), .int("sorted", 1)])[1]
        return (
            op("GatherElements", sorted[0], order, attributes: [.int("axis", d)]),
            op("GatherElements", sorted[1], order, attributes: [.int("axis", d)])
        )
    }

    func constantFill(_ value: TracedScalar, _ shape: [Int], _ dtype: DType) -> String {
        if shape.isEmpty { return scalar(value, dtype) }
        var t = value.asTensorProto(dtype)
        t.dims = [1]
        return op("ConstantOfShape", ints(shape), attributes: [.tensor("value", t)])
    }

    func constantFill(_ value: Double, _ shape: [Int], _ dtype: DType) -> String {
        constantFill(.double(value), shape, dtype)
    }
}

extension TracedScalar {
    func asTensorProto(_ dtype: DType) -> Onnx_TensorProto {
        switch self {
        case .int(let i) where !dtype.isFloatingPoint: ONNXTensor.integerScalar(i, dtype: dtype)
        default: ONNXTensor.scalar(doubleValue, dtype: dtype)
        }
    }
}
