import Foundation

/// A read-only view of a zip archive whose records are stored uncompressed, as `torch.save`
/// writes them (including the ZIP64 records it emits for large files).
///
/// The archive only borrows `bytes`: use it inside the `withUnsafeBytes` scope that produced
/// them. All offsets and sizes read from the file are checked against the buffer, so a damaged
/// archive throws `ZipArchive.Failure` rather than reading out of bounds.
struct ZipArchive {
    /// Why an archive cannot be read; the caller adds the file name.
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// One record of the central directory, with its data located.
    struct Entry {
        var name: String
        var crc32: UInt32
        var size: Int
        /// Offset of the record's bytes in the archive.
        var dataOffset: Int
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var entries: [Entry] = []
    private var indexByName: [String: Int] = [:]

    static let localSignature: UInt32 = 0x0403_4b50
    static let centralSignature: UInt32 = 0x0201_4b50
    static let endSignature: UInt32 = 0x0605_4b50
    static let zip64EndSignature: UInt32 = 0x0606_4b50
    static let zip64LocatorSignature: UInt32 = 0x0706_4b50

    /// True when `bytes` starts like a zip archive (a local file header).
    static func hasSignature(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes.littleEndian(at: 0, width: 4) == UInt64(localSignature)
    }

    init(_ bytes: UnsafeRawBufferPointer) throws {
        self.bytes = bytes
        do {
            let directory = try Self.locateCentralDirectory(bytes)
            var reader = ByteReader(bytes, offset: directory.offset)
            for _ in 0..<directory.count {
                let entry = try Self.readCentralEntry(&reader, archive: bytes, directoryEnd: directory.end)
                guard indexByName[entry.name] == nil else {
                    throw Failure("corrupt zip archive (record \(entry.name) appears twice)")
                }
                indexByName[entry.name] = entries.count
                entries.append(entry)
            }
        } catch is ByteReader.OutOfData {
            throw Failure("truncated zip archive")
        }
    }

    func entry(named name: String) -> Entry? {
        indexByName[name].map { entries[$0] }
    }

    /// The bytes of a record after checking its CRC-32 against the central directory.
    func contents(of entry: Entry) throws -> UnsafeRawBufferPointer {
        let data = UnsafeRawBufferPointer(rebasing: bytes[entry.dataOffset..<(entry.dataOffset + entry.size)])
        let crc = Torch.crc32(data)
        guard crc == entry.crc32 else {
            throw Failure("CRC-32 mismatch in record \(entry.name) (stored \(hex(entry.crc32)), computed \(hex(crc)))")
        }
        return data
    }

    private func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - s.count) + s
    }

    // MARK: - directory records

    private struct Directory {
        var offset: Int
        var end: Int
        var count: Int
    }

    /// Finds the end-of-central-directory record (and its ZIP64 form when present).
    private static func locateCentralDirectory(_ bytes: UnsafeRawBufferPointer) throws -> Directory {
        let endSize = 22
        guard bytes.count >= endSize else {
            throw Failure("truncated zip archive (no end-of-central-directory record)")
        }
        // The record sits at the end, followed only by a comment of at most 65535 bytes.
        var found: Int?
        var position = bytes.count - endSize
        let lowest = max(0, bytes.count - endSize - 65535)
        while position >= lowest {
            if bytes.littleEndian(at: position, width: 4) == UInt64(endSignature) {
                let commentLength = Int(bytes.littleEndian(at: position + 20, width: 2))
                if position + endSize + commentLength == bytes.count { found = position; break }
                if found == nil { found = position }
            }
            position -= 1
        }
        guard let end = found else { throw Failure("truncated zip archive (no end-of-central-directory record)") }
        var reader = ByteReader(bytes, offset: end + 4)
        let disk = try reader.u16(), directoryDisk = try reader.u16()
        _ = try reader.u16()
        var count = UInt64(try reader.u16())
        var size = UInt64(try reader.u32())
        var offset = UInt64(try reader.u32())
        var directoryEnd = end

        // ZIP64: a locator just before the record points at a 64-bit end record.
        if end >= 20, bytes.littleEndian(at: end - 20, width: 4) == UInt64(zip64LocatorSignature) {
            var locator = ByteReader(bytes, offset: end - 16)
            _ = try locator.u32()
            let recordOffset = try locator.u64()
            guard recordOffset <= UInt64(end - 20), UInt64(end - 20) - recordOffset >= 56 else {
                throw Failure("corrupt zip archive (ZIP64 end record outside the file)")
            }
            var record = ByteReader(bytes, offset: Int(recordOffset))
            guard try record.u32() == zip64EndSignature else {
                throw Failure("corrupt zip archive (missing ZIP64 end-of-central-directory record)")
            }
            try record.skip(8 + 2 + 2)
            let disk64 = try record.u32(), directoryDisk64 = try record.u32()
            guard disk64 == 0, directoryDisk64 == 0 else {
                throw Failure("multi-volume zip archives are not supported")
            }
            _ = try record.u64()
            count = try record.u64()
            size = try record.u64()
            offset = try record.u64()
            directoryEnd = Int(recordOffset)
        } else if count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            throw Failure("truncated zip archive (ZIP64 end-of-central-directory locator missing)")
        }
        guard disk == 0, directoryDisk == 0 else { throw Failure("multi-volume zip archives are not supported") }
        guard offset <= UInt64(directoryEnd), size <= UInt64(directoryEnd) - offset else {
            throw Failure("truncated zip archive (central directory outside the file)")
        }
        // Each central record takes at least 46 bytes: a larger count is a lie.
        guard count <= size / 46 else {
            throw Failure("corrupt zip archive (\(count) records do not fit the central directory)")
        }
        return Directory(offset: Int(offset), end: Int(offset + size), count: Int(count))
    }

    /// Reads one central-directory record and locates its data through the local header.
    private static func readCentralEntry(
        _ reader: inout ByteReader, archive: UnsafeRawBufferPointer,
        directoryEnd: Int
    ) throws -> Entry {
        guard reader.remaining >= 46, reader.offset + 46 <= directoryEnd else {
            throw Failure("corrupt zip archive (central directory ends early)")
        }
        guard try reader.u32() == centralSignature else {
            throw Failure("corrupt zip archive (bad central directory record)")
        }
        try reader.skip(4)  // versions made by / needed
        let flags = try reader.u16(), method = try reader.u16()
        try reader.skip(4)  // time, date
        let crc = try reader.u32()
        var compressedSize = UInt64(try reader.u32()), size = UInt64(try reader.u32())
        let nameLength = Int(try reader.u16()), extraLength = Int(try reader.u16()),
            commentLength = Int(try reader.u16())
        let diskStart = try reader.u16()
        try reader.skip(6)  // internal and external attributes
        var localOffset = UInt64(try reader.u32())
        let nameBytes = try reader.view(nameLength)
        let name = String(decoding: nameBytes, as: UTF8.self)
        var extra = ByteReader(try reader.view(extraLength))
        try reader.skip(commentLength)
        guard reader.offset <= directoryEnd else { throw Failure("corrupt zip archive (central directory ends early)") }

        // ZIP64 extended information: only the fields saturated in the record, in this order.
        while extra.remaining >= 4 {
            let id = try extra.u16(), length = Int(try extra.u16())
            var field = ByteReader(try extra.view(length))
            guard id == 0x0001 else { continue }
            if size == 0xFFFF_FFFF { size = try field.u64() }
            if compressedSize == 0xFFFF_FFFF { compressedSize = try field.u64() }
            if localOffset == 0xFFFF_FFFF { localOffset = try field.u64() }
        }
        guard diskStart == 0 || diskStart == 0xFFFF else {
            throw Failure("multi-volume zip archives are not supported")
        }
        guard flags & 0x1 == 0 else { throw Failure("record \(name) is encrypted") }
        guard method == 0 else {
            throw Failure(
                "record \(name) is compressed (method \(method)); only stored (uncompressed) records are supported")
        }
        guard compressedSize == size else {
            throw Failure("corrupt zip archive (record \(name) has two different sizes)")
        }

        // The local header repeats the name and has its own extra field (torch pads it to align the data).
        guard localOffset <= UInt64(archive.count) else {
            throw Failure("truncated zip archive (record \(name) lies beyond the end)")
        }
        var local = ByteReader(archive, offset: Int(localOffset))
        do {
            guard try local.u32() == localSignature else {
                throw Failure("corrupt zip archive (bad local header for \(name))")
            }
            try local.skip(22)
            let localNameLength = Int(try local.u16()), localExtraLength = Int(try local.u16())
            guard try local.view(localNameLength).elementsEqual(nameBytes) else {
                throw Failure("corrupt zip archive (local header name differs for \(name))")
            }
            try local.skip(localExtraLength)
            try local.require(size)
        } catch is ByteReader.OutOfData {
            throw Failure("truncated zip archive (record \(name) lies beyond the end)")
        }
        return Entry(name: name, crc32: crc, size: Int(size), dataOffset: local.offset)
    }
}
