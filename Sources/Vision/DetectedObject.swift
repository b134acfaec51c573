/// One detection in original-image pixels.
public struct DetectedObject: Sendable, Equatable {
    /// Class index = logit column (the COCO category id for 91-class models).
    public var label: Int
    public var score: Float
    /// The box in pixels of the original image.
    public var box: PixelBox

    public init(label: Int, score: Float, box: PixelBox) {
        self.label = label
        self.score = score
        self.box = box
    }
}
