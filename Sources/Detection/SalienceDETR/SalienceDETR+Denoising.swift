import Torch

extension SalienceDETR {
    /// Contrastive denoising queries for a training batch (official `GenerateCDNQueries`):
    /// G = max(denoising.num · M // max(M², 1), 1) groups of 2M queries, M = most targets in one
    /// image; the noised labels go through `denoising_generator.label_encoder` (so it is trained).
    /// - Parameters:
    ///   - targets: per image, labels [n_b] int64 and boxes [n_b, 4] cxcywh normalised
    ///   - noise: the label and box noise (`SeededDenoisingNoise` in training)
    /// - Returns: label queries [B, D, C], box queries [B, D, 4], mask [D + Q, D + Q], with
    ///   D = 2MG and Q = config.numQueries (the transformer crops the mask when fewer queries exist)
    public func denoisingQueries(for targets: [DetectionTarget], noise: some DenoisingNoise) -> DenoisingQueries {
        let device = labelEncoder.weight.device
        let counts = targets.map(\.count)
        let m = counts.max() ?? 0
        let groups = DenoisingQueries.groups(denoisingNum: config.denoising.num, maxTargets: m)
        let d = 2 * m * groups, b = targets.count, c = config.hiddenDim
        let mask = DenoisingQueries.attentionMask(
            groups: groups, groupSize: 2 * m, queries: config.numQueries,
            device: device)
        var labelQuery = Tensor.zeros([b, d, c], dtype: labelEncoder.weight.dtype, device: device)
        var boxQuery = Tensor.zeros([b, d, 4], dtype: labelEncoder.weight.dtype, device: device)
        let total = counts.reduce(0, +)
        if total > 0 {
            let labels = Tensor.cat(targets.map(\.labels)).repeat([2 * groups])  // [K]
            let boxes = Tensor.cat(targets.map(\.boxes)).repeat([2 * groups, 1])  // [K, 4]
            let (noisedLabels, boxQueries) = noise.apply(labels: labels, boxes: boxes, groups: groups)
            let (image, slot) = DenoisingQueries.slots(targetCounts: counts, groups: groups)
            let at: [TensorIndex] = [.tensor(Tensor(image).to(device)), .tensor(Tensor(slot).to(device))]
            labelQuery = labelQuery.indexPut(at, labelEncoder(noisedLabels))
            boxQuery = boxQuery.indexPut(at, boxQueries.to(boxQuery.dtype))
        }
        return DenoisingQueries(
            labelQuery: labelQuery, boxQuery: boxQuery, attnMask: mask, groups: groups,
            groupSize: 2 * m)
    }

    /// The official noise of `config.denoising` drawn from `generator`.
    public func denoisingNoise(generator: Generator?) -> SeededDenoisingNoise {
        SeededDenoisingNoise(
            generator: generator, numClasses: config.numClasses,
            labelNoiseProb: config.denoising.labelNoiseProb,
            boxNoiseScale: config.denoising.boxNoiseScale)
    }
}
