import Detection
import Torch
import Vision

/// One batch as the trainer consumes it: padded normalised images, one target per image, and
/// the COCO ids of the images (in batch order).
public struct TrainingBatch: @unchecked Sendable {
    /// Position of this batch in its epoch (0-based; gaps never occur, batches whose images all
    /// failed to load are simply not yielded but keep their number).
    public var index: Int
    /// [B, 3, H, W] float32 + mask [B, H, W] (true = padding); `imageSizes` are the augmented
    /// sizes the targets are normalised by; `originalSizes` the decoded sizes.
    public var images: ImageBatch
    /// Labels [N_i] int64 and boxes [N_i, 4] cxcywh normalised by the unpadded augmented size.
    public var targets: [DetectionTarget]
    public var imageIds: [Int]
    /// Data-parallel training: this process's share of the step is empty (the global batch has
    /// fewer images than processes, or its images could not be read), and the batch holds another
    /// share's image only so that this process runs the same forward and backward passes as the
    /// others (their collectives must meet). Its loss, box count and batch statistics count zero.
    public var isPlaceholder: Bool

    public init(
        index: Int, images: ImageBatch, targets: [DetectionTarget], imageIds: [Int], isPlaceholder: Bool = false
    ) {
        self.index = index
        self.images = images
        self.targets = targets
        self.imageIds = imageIds
        self.isPlaceholder = isPlaceholder
    }

    public var count: Int { imageIds.count }

    /// The batch with images, mask and targets on `device` (itself when already there).
    public func to(_ device: Device) -> TrainingBatch {
        guard images.images.device != device else { return self }
        return TrainingBatch(
            index: index, images: images.to(device), targets: targets.map { $0.to(device) },
            imageIds: imageIds, isPlaceholder: isPlaceholder)
    }

    /// The batch padded bottom/right to `height` × `width` (at least its own size): zero pixels,
    /// mask true. Data-parallel processes pad to the whole step's largest size this way, so each
    /// computes what one process would on the whole global batch.
    public func padded(height: Int, width: Int) -> TrainingBatch {
        let (h, w) = (images.images.size(2), images.images.size(3))
        guard height > h || width > w else { return self }
        let (dh, dw) = (Swift.max(height - h, 0), Swift.max(width - w, 0))
        var out = self
        out.images.images = Functional.pad(images.images, [0, dw, 0, dh])
        out.images.mask = Functional.pad(images.mask.to(.uint8), [0, dw, 0, dh], value: 1).to(.bool)
        return out
    }

    /// The augmented samples as one batch (`ImageBatch.collate`: normalised, padded to a multiple
    /// of `sizeDivisor`) with their targets.
    public static func collate(_ samples: [TrainingSample], index: Int = 0, sizeDivisor: Int = 1) -> TrainingBatch {
        precondition(!samples.isEmpty && sizeDivisor >= 1, "TrainingBatch.collate: empty batch or bad divisor")
        let images = ImageBatch.collate(
            samples.map(\.image), originalSizes: samples.map(\.originalSize), sizeDivisor: sizeDivisor)
        return TrainingBatch(
            index: index, images: images, targets: samples.map { $0.detectionTarget() },
            imageIds: samples.map(\.imageId))
    }
}
