import CImage

extension Image {
    /// Bilinear resize with Pillow's semantics (`Image.resize(size, BILINEAR)` on an 8-bit RGB
    /// image): antialiased when downsampling, 22-bit fixed-point weights, horizontal pass first.
    /// Pixel-identical to PIL, which the official Conditional DETR preprocessing uses.
    public func resizedBilinear(width newWidth: Int, height newHeight: Int) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "resizedBilinear: size must be positive")
        if newWidth == width && newHeight == height { return self }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        let status = pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                ci_resize_bilinear(
                    src.baseAddress, Int32(width), Int32(height), 3, dst.baseAddress,
                    Int32(newWidth), Int32(newHeight))
            }
        }
        precondition(status == 0, "resizedBilinear: out of memory")
        return Image(width: newWidth, height: newHeight, pixels: out)
    }
}
