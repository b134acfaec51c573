import Diagnostics
import Foundation

/// The format and stored size of an encoded image, read from its header without decoding the
/// pixels: a service checks the pixel count of an untrusted image before it allocates them.
public struct ImageHeader: Sendable, Equatable {
    /// The encoded formats read.
    public enum Format: String, Sendable {
        case jpeg, png
    }

    public var format: Format
    public var width: Int
    public var height: Int

    public init(format: Format, width: Int, height: Int) {
        self.format = format
        self.width = width
        self.height = height
    }

    /// Stored pixels (width × height; EXIF orientation does not change it).
    public var pixelCount: Int { width * height }

    /// Reads a PNG's IHDR chunk or a JPEG's first frame header (SOFn marker).
    /// - Parameter name: the image as the caller names it, for error messages
    /// - Throws: `FileError` when the bytes are neither JPEG nor PNG, or end before the size
    public init(data: Data, name: String = "<memory>") throws {
        let bytes = [UInt8](data.prefix(Self.maxScan))
        if bytes.isEmpty { throw FileError(file: name, problem: "is empty") }
        if bytes.starts(with: Self.pngSignature) {
            // signature (8), chunk length (4), "IHDR" (4), width (4), height (4)
            guard bytes.count >= 24, bytes[12..<16].elementsEqual("IHDR".utf8) else {
                throw FileError(file: name, problem: "corrupt or truncated PNG (no IHDR header)")
            }
            self.init(format: .png, width: Self.be32(bytes, 16), height: Self.be32(bytes, 20))
        } else if bytes.starts(with: [0xFF, 0xD8]) {
            guard let (w, h) = Self.jpegSize(bytes) else {
                throw FileError(file: name, problem: "corrupt or truncated JPEG (no frame header)")
            }
            self.init(format: .jpeg, width: w, height: h)
        } else {
            throw FileError(file: name, problem: "is not a JPEG or PNG image")
        }
        guard width > 0, height > 0 else {
            throw FileError(file: name, problem: "corrupt \(format == .png ? "PNG" : "JPEG") (size \(width)x\(height))")
        }
    }

    /// How far into the bytes the JPEG frame header is looked for (EXIF and ICC segments come first).
    public static let maxScan = 4 << 20
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func be32(_ b: [UInt8], _ i: Int) -> Int {
        Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
    }

    static func be16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }

    /// Walks the JPEG segments to the first SOFn marker and reads (width, height) from it.
    static func jpegSize(_ b: [UInt8]) -> (Int, Int)? {
        var i = 2
        while i + 4 <= b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF {  // fill byte
                i += 1
                continue
            }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) {  // no length
                i += 2
                continue
            }
            let length = be16(b, i + 2)
            guard length >= 2 else { return nil }
            let isFrame = (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
            if isFrame {
                // length (2), precision (1), height (2), width (2)
                guard i + 9 <= b.count else { return nil }
                return (be16(b, i + 7), be16(b, i + 5))
            }
            if marker == 0xDA || marker == 0xD9 { return nil }  // scan or end before any frame header
            i += 2 + length
        }
        return nil
    }
}
