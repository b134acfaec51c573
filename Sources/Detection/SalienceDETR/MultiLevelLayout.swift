import Torch

/// Geometry of the flattened multi-level token axis: levels concatenated finest first, each level
/// row-major (y, x) over its PADDED map.
public struct MultiLevelLayout: Sendable {
    /// (h_l, w_l) per level.
    public let shapes: [LevelShape]
    /// First token of each level (`level_start_index`).
    public let starts: [Int]
    /// Σ h_l·w_l.
    public let tokenCount: Int

    public struct LevelShape: Sendable, Equatable {
        public var height: Int
        public var width: Int
        public var count: Int { height * width }
    }

    /// From maps or masks whose last two dimensions are (h_l, w_l).
    init(_ levels: [Tensor]) {
        shapes = levels.map { LevelShape(height: $0.size(-2), width: $0.size(-1)) }
        var s: [Int] = [], total = 0
        for shape in shapes {
            s.append(total)
            total += shape.count
        }
        starts = s
        tokenCount = total
    }

    public var levelCount: Int { shapes.count }
    /// Token range of level l.
    public func range(_ l: Int) -> Range<Int> { starts[l]..<(starts[l] + shapes[l].count) }
    /// The level of a token index.
    public func level(ofToken t: Int) -> Int { starts.lastIndex { $0 <= t } ?? 0 }
    /// (h, w) tuples for `msDeformAttnCore`.
    public var hw: [(height: Int, width: Int)] { shapes.map { ($0.height, $0.width) } }
    /// `spatial_shapes`: [L, 2] int64 (h, w).
    public var spatialShapesTensor: Tensor {
        Tensor(shapes.flatMap { [$0.height, $0.width] }, shape: [levelCount, 2])
    }
    /// `level_start_index`: [L] int64.
    public var levelStartIndexTensor: Tensor { Tensor(starts) }

    /// [B, C, h_l, w_l] per level -> [B, N, C]
    ///
    /// The result is contiguous (the linear layers that read it need no copy); channels-last maps
    /// are read as they lie.
    static func flatten(_ maps: [Tensor]) -> Tensor {
        Tensor.cat(maps.map { $0.flatten(startDim: 2).transpose(1, 2) }, dim: 1)
    }

    /// [B, h_l, w_l] per level -> [B, N]
    static func flattenMasks(_ masks: [Tensor]) -> Tensor {
        Tensor.cat(masks.map { $0.flatten(startDim: 1) }, dim: 1)
    }

    /// [B, N, C] -> [B, C, h_l, w_l] per level
    func unflatten(_ tokens: Tensor) -> [Tensor] {
        let (b, c) = (tokens.size(0), tokens.size(2))
        return tokens.split(sizes: shapes.map(\.count), dim: 1).enumerated().map { l, t in
            // A channels-last view of the tokens: no copy, and the layout convolutions run fastest in.
            t.reshape(b, shapes[l].height, shapes[l].width, c).permute(0, 3, 1, 2)
        }
    }

    /// `valid_ratios`: (valid_w / w, valid_h / h) per image and level, valid extents counted on the
    /// first row and column of each level mask. [B, L, 2] float32
    static func validRatios(_ masks: [Tensor]) -> Tensor {
        Tensor.stack(
            masks.map { m in
                let (h, w) = (m.size(1), m.size(2))
                let validH = m.select(dim: 2, index: 0).logicalNot().sum(dim: 1).to(.float32) / h
                let validW = m.select(dim: 1, index: 0).logicalNot().sum(dim: 1).to(.float32) / w
                return Tensor.stack([validW, validH], dim: -1)
            }, dim: 1)
    }
}
