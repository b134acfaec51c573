/// EXIF orientation: the eight rotations/mirrorings a camera may record.
extension Image {
    /// The image as a viewer shows it for EXIF orientation `exif` (1...8; others unchanged).
    public func oriented(exif: Int) -> Image {
        switch exif {
        case 2: return mapped(width: width, height: height) { x, y in (width - 1 - x, y) }
        case 3: return mapped(width: width, height: height) { x, y in (width - 1 - x, height - 1 - y) }
        case 4: return mapped(width: width, height: height) { x, y in (x, height - 1 - y) }
        case 5: return mapped(width: height, height: width) { x, y in (y, x) }  // transpose
        case 6: return mapped(width: height, height: width) { x, y in (y, height - 1 - x) }  // rotate 90 CW
        case 7: return mapped(width: height, height: width) { x, y in (width - 1 - y, height - 1 - x) }  // transverse
        case 8: return mapped(width: height, height: width) { x, y in (width - 1 - y, x) }  // rotate 90 CCW
        default: return self
        }
    }

    /// A new image whose pixel (x, y) is this image's pixel `source(x, y)`.
    private func mapped(width w: Int, height h: Int, _ source: (Int, Int) -> (Int, Int)) -> Image {
        var out = [UInt8](repeating: 0, count: w * h * 3)
        pixels.withUnsafeBufferPointer { src in
            for y in 0..<h {
                for x in 0..<w {
                    let (sx, sy) = source(x, y)
                    let s = 3 * (sy * width + sx), d = 3 * (y * w + x)
                    out[d] = src[s]
                    out[d + 1] = src[s + 1]
                    out[d + 2] = src[s + 2]
                }
            }
        }
        return Image(width: w, height: h, pixels: out)
    }
}
