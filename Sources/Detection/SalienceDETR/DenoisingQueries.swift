import Torch

/// The contrastive denoising queries of one training batch: the five values the official
/// `GenerateCDNQueries` returns.
///
/// Layout: the batch's targets are repeated in 2G blocks (block 2g = positives of group g, block
/// 2g+1 = its negatives); target j of image b in block k sits at query slot k·M + j of image b,
/// M = most targets in one image, so group g spans slots [2gM, 2(g+1)M) with its positives first.
/// Slots an image does not fill stay zero.
public struct DenoisingQueries: @unchecked Sendable {
    /// [B, D, C] label embeddings of the noised labels, D = groups · groupSize.
    public var labelQuery: Tensor
    /// [B, D, 4] noised boxes (cxcywh) in inverse-sigmoid space.
    public var boxQuery: Tensor
    /// [D + Q, D + Q] bool decoder self-attention mask, true = blocked (Q = configured queries).
    public var attnMask: Tensor
    /// Number of groups G.
    public var groups: Int
    /// Queries per group, 2M (the official `max_gt_num_per_image` return value).
    public var groupSize: Int

    public init(labelQuery: Tensor, boxQuery: Tensor, attnMask: Tensor, groups: Int, groupSize: Int) {
        self.labelQuery = labelQuery
        self.boxQuery = boxQuery
        self.attnMask = attnMask
        self.groups = groups
        self.groupSize = groupSize
    }

    /// Denoising queries per image, D.
    public var count: Int { groups * groupSize }

    /// G = max(denoisingNum · M // max(M², 1), 1) for M = most targets in one image.
    public static func groups(denoisingNum: Int, maxTargets m: Int) -> Int {
        Swift.max(denoisingNum * m / Swift.max(m * m, 1), 1)
    }

    /// Where each repeated target goes: for the K = 2G·Σ n_b entries (blocks of all targets of the
    /// batch, image order), the image and the query slot.
    /// - Parameter targetCounts: targets per image, n_b
    public static func slots(targetCounts: [Int], groups: Int) -> (image: [Int], slot: [Int]) {
        let m = targetCounts.max() ?? 0
        var image: [Int] = [], slot: [Int] = []
        for block in 0..<(2 * groups) {
            for (b, n) in targetCounts.enumerated() {
                for j in 0..<n {
                    image.append(b)
                    slot.append(block * m + j)
                }
            }
        }
        return (image, slot)
    }

    /// The self-attention mask over [denoising ‖ matching] queries: matching queries see no
    /// denoising query; a denoising query sees its own group and every matching query.
    /// - Returns: [D + Q, D + Q] bool, true = blocked, D = groups · groupSize
    public static func attentionMask(groups: Int, groupSize: Int, queries: Int, device: Device = .cpu) -> Tensor {
        let d = groups * groupSize, t = d + queries
        guard d > 0 else { return Tensor.zeros([t, t], dtype: .bool, device: device) }
        let index = Tensor.arange(0, t, device: device)
        let rows = index.view(t, 1), cols = index.view(1, t)
        let sameGroup = rows.floorDivide(groupSize) .== cols.floorDivide(groupSize)
        let denoisingRow = rows .< d, denoisingCol = cols .< d
        return denoisingCol .& (denoisingRow.logicalNot() .| sameGroup.logicalNot())
    }
}

/// Where the denoising noise comes from: a seeded generator in training, recorded draws in tests.
public protocol DenoisingNoise {
    /// - Parameters:
    ///   - labels: [K] int64, the batch's target labels repeated in 2·groups blocks (see
    ///     `DenoisingQueries`); blocks 2g are positives, 2g+1 negatives
    ///   - boxes: [K, 4] cxcywh normalised, repeated the same way
    /// - Returns: noised labels [K] int64 and noised boxes [K, 4] in inverse-sigmoid space
    func apply(labels: Tensor, boxes: Tensor, groups: Int) -> (labels: Tensor, boxQueries: Tensor)
}

/// The official contrastive noise, drawn from a generator (libtorch's global one when nil).
///
/// Labels: each is replaced with probability labelNoiseProb/2 by a class uniform in
/// [0, numClasses). Boxes: in xyxy, each coordinate moves by s·u·(w/2 or h/2)·boxNoiseScale with a
/// random sign s, u ~ U[0, 1) for positives and U[1, 2) for negatives, then clamps to [0, 1];
/// the result goes back to cxcywh and through inverse_sigmoid (eps 1e-3).
/// Draw order (rand, randint for labels; randint, rand for boxes) follows the official code.
public struct SeededDenoisingNoise: DenoisingNoise {
    public var generator: Generator?
    public var numClasses: Int
    public var labelNoiseProb: Double
    public var boxNoiseScale: Double

    public init(generator: Generator?, numClasses: Int, labelNoiseProb: Double, boxNoiseScale: Double) {
        self.generator = generator
        self.numClasses = numClasses
        self.labelNoiseProb = labelNoiseProb
        self.boxNoiseScale = boxNoiseScale
    }

    public func apply(labels: Tensor, boxes: Tensor, groups: Int) -> (labels: Tensor, boxQueries: Tensor) {
        let k = labels.size(0), device = labels.device
        // Draws happen on the CPU (the generator is a CPU generator), so a seed gives the same
        // noise on every device.
        func onDevice(_ t: Tensor) -> Tensor { device == .cpu ? t : t.to(device) }
        var noisedLabels = labels
        let p = labelNoiseProb * 0.5
        if p > 0 {
            let replace = onDevice(Tensor.rand([k], generator: generator) .< p)
            let random = onDevice(Tensor.randint(0, numClasses, [k], generator: generator))
            noisedLabels = Tensor.where(replace, random, labels)
        }
        var noised = boxes
        if boxNoiseScale > 0 && k > 0 {
            // Entry e belongs to block e / T (T = targets in the batch); odd blocks are negatives.
            let perBlock = k / (2 * groups)
            let negative = Tensor.arange(0, k, device: device).floorDivide(perBlock).remainder(2)
                .to(boxes.dtype).unsqueeze(-1)  // [K, 1]
            let wh = boxes.slice(dim: 1, start: 2)
            let diff = Tensor.cat([wh / 2, wh / 2], dim: 1)  // [K, 4]
            let sign = onDevice(Tensor.randint(0, 2, [k, 4], generator: generator, dtype: boxes.dtype)) * 2.0 - 1.0
            let part = (onDevice(Tensor.rand([k, 4], generator: generator, dtype: boxes.dtype)) + negative) * sign
            let xyxy = (BoxOps.cxcywhToXyxy(boxes) + part * diff * boxNoiseScale).clamp(min: 0, max: 1)
            noised = BoxOps.xyxyToCxcywh(xyxy)
        }
        return (noisedLabels, noised.inverseSigmoid(eps: SalienceDecoder.inverseSigmoidEps))
    }
}
