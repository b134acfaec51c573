import Foundation

/// A bounds-checked little-endian cursor over a byte buffer read from an untrusted file.
///
/// Every read checks the remaining length first and throws `ByteReader.OutOfData` instead of
/// reading past the end; sizes are compared with checked arithmetic so that a length field
/// near `Int.max` cannot overflow.
struct ByteReader {
    /// Thrown when a read needs more bytes than remain.
    struct OutOfData: Error {
        /// Offset (from the start of the buffer) at which the read was attempted.
        var offset: Int
        /// Bytes the read needed.
        var needed: Int
    }

    let bytes: UnsafeRawBufferPointer
    /// Offset of the next byte to read.
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { offset <= bytes.count ? bytes.count - offset : 0 }
    var isAtEnd: Bool { offset >= bytes.count }

    /// Throws unless `count` more bytes are available.
    func require(_ count: Int) throws {
        guard count >= 0, count <= remaining else { throw OutOfData(offset: offset, needed: count) }
    }

    /// Throws unless `count` (a size read from the file, possibly huge) more bytes are available.
    func require(_ count: UInt64) throws {
        guard count <= UInt64(remaining) else { throw OutOfData(offset: offset, needed: Int(clamping: count)) }
    }

    mutating func skip(_ count: Int) throws {
        try require(count)
        offset += count
    }

    mutating func u8() throws -> UInt8 {
        try require(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    /// An unsigned little-endian integer of `width` bytes (at most 8).
    mutating func unsigned(width: Int) throws -> UInt64 {
        try require(width)
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += width
        return v
    }

    mutating func u16() throws -> UInt16 { UInt16(truncatingIfNeeded: try unsigned(width: 2)) }
    mutating func u32() throws -> UInt32 { UInt32(truncatingIfNeeded: try unsigned(width: 4)) }
    mutating func u64() throws -> UInt64 { try unsigned(width: 8) }
    mutating func i32() throws -> Int32 { Int32(bitPattern: try u32()) }
    mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }

    /// A big-endian IEEE double (pickle's BINFLOAT).
    mutating func f64BigEndian() throws -> Double {
        try require(8)
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return Double(bitPattern: v)
    }

    /// The next `count` bytes as a view (valid while the underlying buffer is).
    mutating func view(_ count: Int) throws -> UnsafeRawBufferPointer {
        try require(count)
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    /// The next `count` bytes, where `count` was read from the file as an unsigned value.
    mutating func view(_ count: UInt64) throws -> UnsafeRawBufferPointer {
        try require(count)
        return try view(Int(count))
    }

    /// Bytes up to (not including) the next `\n`, which is consumed.
    mutating func line() throws -> UnsafeRawBufferPointer {
        var end = offset
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        guard end < bytes.count else { throw OutOfData(offset: offset, needed: end - offset + 1) }
        defer { offset = end + 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
    }
}

extension UnsafeRawBufferPointer {
    /// An unsigned little-endian integer at `offset` (caller checked the bounds).
    func littleEndian(at offset: Int, width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(self[offset + i]) << (8 * UInt64(i)) }
        return v
    }
}
