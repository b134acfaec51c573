/// Anything the `DataLoader` can draw training samples from: a fixed number of images that can
/// be decoded independently, from any thread.
public protocol DetectionSampleSource: Sendable {
    /// Number of samples.
    var count: Int { get }
    /// Width / height of sample `index`, known without decoding (used to group batches).
    func aspectRatio(at index: Int) -> Double
    /// The decoded sample `index` (before augmentation). Called concurrently by loader workers.
    /// - Throws: `TrainingDataError.unreadableImage` for an image that cannot be read (the
    ///   loader's `UnreadableImagePolicy` decides), anything else to stop loading.
    func sample(at index: Int) throws -> TrainingSample
}

extension COCODetectionDataset: DetectionSampleSource {}

/// Samples held in memory (tests, small synthetic sets, pre-decoded data).
public struct InMemorySampleSource: DetectionSampleSource {
    public var samples: [TrainingSample]

    public init(_ samples: [TrainingSample]) { self.samples = samples }

    public var count: Int { samples.count }

    public func aspectRatio(at index: Int) -> Double {
        Double(samples[index].image.width) / Double(samples[index].image.height)
    }

    public func sample(at index: Int) throws -> TrainingSample { samples[index] }
}
