import Foundation

/// An 8-bit RGB image with interleaved pixels (row-major, HWC).
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `height * width * 3` bytes, RGB.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "Image: \(pixels.count) bytes for \(width)x\(height) RGB")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A solid-colour image.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            px[3 * i] = fill.0
            px[3 * i + 1] = fill.1
            px[3 * i + 2] = fill.2
        }
        self.init(width: width, height: height, pixels: px)
    }
}
