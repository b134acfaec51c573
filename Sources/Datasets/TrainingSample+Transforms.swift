import Vision

/// The geometric primitives of DETR's `datasets/transforms.py` (`hflip`, `resize`, `crop`),
/// applied to the image and its boxes together with the same float32 arithmetic.
extension TrainingSample {
    /// Mirrored left–right: `x0' = w - x1`, `x1' = w - x0`.
    public func flippedHorizontally() -> TrainingSample {
        let w = image.width, h = image.height
        var px = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            px.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row = y * w * 3
                    for x in 0..<w {
                        let s = row + 3 * (w - 1 - x), d = row + 3 * x
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        let fw = Float(w)
        var out = self
        out.image = Image(width: w, height: h, pixels: px)
        out.boxes = boxes.map { PixelBox(x0: fw - $0.x1, y0: $0.y0, x1: fw - $0.x0, y1: $0.y1) }
        return out
    }

    /// Resized to exactly `width` x `height` with PIL bilinear; boxes scale by
    /// `(new / old)` per axis (the ratio computed in double, applied in float32, as DETR does).
    public func resized(width newWidth: Int, height newHeight: Int) -> TrainingSample {
        if newWidth == image.width && newHeight == image.height { return self }
        let rw = Float(Double(newWidth) / Double(image.width))
        let rh = Float(Double(newHeight) / Double(image.height))
        var out = self
        out.image = image.resizedBilinear(width: newWidth, height: newHeight)
        out.boxes = boxes.map { PixelBox(x0: $0.x0 * rw, y0: $0.y0 * rh, x1: $0.x1 * rw, y1: $0.y1 * rh) }
        return out
    }

    /// The region `top..<top+height`, `left..<left+width` (which must lie inside the image).
    /// Boxes are shifted, clamped to the region, and dropped when they end up with zero width
    /// or height (DETR's `crop`).
    public func cropped(top: Int, left: Int, height: Int, width: Int) -> TrainingSample {
        precondition(
            top >= 0 && left >= 0 && height > 0 && width > 0
                && top + height <= image.height && left + width <= image.width,
            "cropped: region (\(top), \(left), \(height), \(width)) outside \(image.width)x\(image.height)")
        var px = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            px.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let s = ((top + y) * image.width + left) * 3, d = y * width * 3
                    for k in 0..<(width * 3) { dst[d + k] = src[s + k] }
                }
            }
        }
        let dx = Float(left), dy = Float(top), maxX = Float(width), maxY = Float(height)
        func clampX(_ v: Float) -> Float { Swift.max(Swift.min(v - dx, maxX), 0) }
        func clampY(_ v: Float) -> Float { Swift.max(Swift.min(v - dy, maxY), 0) }
        var out = self
        out.image = Image(width: width, height: height, pixels: px)
        out.boxes = boxes.map { PixelBox(x0: clampX($0.x0), y0: clampY($0.y0), x1: clampX($0.x1), y1: clampY($0.y1)) }
        out.filterBoxes { !$0.isEmpty }
        return out
    }
}
