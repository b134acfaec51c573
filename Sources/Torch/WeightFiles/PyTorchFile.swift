import Foundation

/// Reads files written by `torch.save`, in pure Swift (libtorch's own loaders cannot read
/// pickled state dicts): the zip format of torch >= 1.6 and the legacy format before it.
///
/// The pickled object is rebuilt as a `PickleValue` tree with every tensor as a contiguous
/// CPU `Tensor`. Nothing in the file is executed; see `PickleValue`.
public enum PyTorchFile {
    /// Reads the pickled object of a `.pth` file.
    public static func read(contentsOf url: URL) throws -> PickleValue {
        let data = try WeightFile.map(url)
        return try read(data: data, name: url.path)
    }

    /// Reads the pickled object of `.pth` bytes; `name` is used in error messages.
    public static func read(data: Data, name: String = "<memory>") throws -> PickleValue {
        try data.withUnsafeBytes { bytes in
            if ZipArchive.hasSignature(bytes) { return try readZip(bytes, name: name) }
            if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]) {
                return try readLegacy(bytes, name: name)
            }
            throw FileError(file: name, problem: "not a PyTorch file (neither a zip archive nor a pickle)")
        }
    }

    // MARK: - zip format

    /// `<folder>/data.pkl`, `<folder>/data/<key>` storage records, `<folder>/byteorder`, `<folder>/version`.
    static func readZip(_ bytes: UnsafeRawBufferPointer, name: String) throws -> PickleValue {
        try reporting(name) {
            let archive = try ZipArchive(bytes)
            guard let pickleEntry = archive.entries.first(where: { isDataPickle($0.name) }) else {
                throw FileError(file: name, problem: "is a zip archive without a data.pkl record (not a PyTorch file)")
            }
            let folder = String(pickleEntry.name.dropLast("data.pkl".count))
            // Check every record's CRC-32, so damaged tensor data is an error, not wrong weights.
            var contents: [String: UnsafeRawBufferPointer] = [:]
            for entry in archive.entries { contents[entry.name] = try archive.contents(of: entry) }
            if let order = contents[folder + "byteorder"] {
                let text = String(decoding: order, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard text == "little" else {
                    throw FileError(
                        file: name,
                        problem: text == "big"
                            ? "is a big-endian PyTorch file, which is not supported"
                            : "has an unknown byte order '\(text.prefix(20))'")
                }
            }
            let arena = PickleArena()
            var unpickler = Unpickler(
                contents[pickleEntry.name] ?? UnsafeRawBufferPointer(start: nil, count: 0), arena: arena)
            let root = try context(pickleEntry.name) { try unpickler.load() }
            var records: [String: UnsafeRawBufferPointer] = [:]
            for (key, storage) in unpickler.storages {
                let recordName = folder + "data/" + key
                guard let record = contents[recordName] else {
                    throw FileError(file: name, problem: "storage record \(recordName) is missing")
                }
                guard let elements = storage.recordElements,
                    case let (needed, overflow) = elements.multipliedReportingOverflow(by: storage.dtype.byteSize),
                    !overflow, needed <= record.count
                else {
                    throw FileError(
                        file: name,
                        problem:
                            """
                            storage record \(recordName) has \(record.count) bytes, fewer than \(storage.numel) \
                            \(storage.dtype) elements need
                            """
                    )
                }
                records[key] = record
            }
            let table = StorageTable(records: records)
            var builder = PickleValueBuilder(rebuild: table.tensor(for:))
            return try context(pickleEntry.name) { try builder.value(of: root) }
        }
    }

    /// `data.pkl` directly inside one top-level folder (whose name varies: `archive/`, `tiny/`).
    private static func isDataPickle(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts[1] == "data.pkl" && !parts[0].isEmpty
    }

    // MARK: - legacy format

    /// The magic number pickled first in a legacy file: 0x1950a86a20f9469cfc6c.
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let legacyProtocolVersion = 1001

    /// Pickles of the magic number, the protocol version, system info and the object, then a
    /// pickled list of storage keys and, per key, an 8-byte element count and the raw bytes.
    static func readLegacy(_ bytes: UnsafeRawBufferPointer, name: String) throws -> PickleValue {
        try reporting(name) {
            let arena = PickleArena()
            var offset = 0
            func nextPickle(_ what: String) throws -> (PickleNode, Unpickler) {
                var unpickler = Unpickler(bytes, offset: offset, arena: arena)
                let node = try context("\(what) pickle") { try unpickler.load() }
                offset = unpickler.offset
                return (node, unpickler)
            }
            let magic = try nextPickle("magic number").0
            guard case .bigInt(let value) = magic.kind, value == legacyMagic else {
                throw FileError(file: name, problem: "not a PyTorch file (a pickle without torch's magic number)")
            }
            let version = try nextPickle("protocol version").0
            guard version.int == legacyProtocolVersion else {
                throw FileError(
                    file: name,
                    problem:
                        "unsupported legacy PyTorch format version \(version.int.map(String.init) ?? version.typeName)")
            }
            let info = try nextPickle("system info").0
            for (k, v) in info.pairs where k.string == "little_endian" {
                if case .bool(false) = v.kind {
                    throw FileError(file: name, problem: "is a big-endian PyTorch file, which is not supported")
                }
            }
            let (root, unpickler) = try nextPickle("main")
            let keyList = try nextPickle("storage keys").0
            guard case .list = keyList.kind else {
                throw FileError(file: name, problem: "storage key list is a \(keyList.typeName)")
            }
            var records: [String: UnsafeRawBufferPointer] = [:]
            var reader = ByteReader(bytes, offset: offset)
            for keyNode in keyList.items {
                guard let key = keyNode.string ?? keyNode.int.map(String.init) else {
                    throw FileError(file: name, problem: "storage key is a \(keyNode.typeName)")
                }
                guard let storage = unpickler.storages[key] else {
                    throw FileError(file: name, problem: "storage \(key) is listed but no tensor uses it")
                }
                let count = try reader.i64()
                guard count >= 0, count >= Int64(storage.numel),
                    case let (size, overflow) = Int(count).multipliedReportingOverflow(by: storage.dtype.byteSize),
                    !overflow
                else {
                    throw FileError(file: name, problem: "storage \(key) has an invalid element count \(count)")
                }
                records[key] = try reader.view(size)
            }
            let table = StorageTable(records: records)
            var builder = PickleValueBuilder(rebuild: table.tensor(for:))
            return try context("main pickle") { try builder.value(of: root) }
        }
    }

    // MARK: - errors

    /// Prefixes pickle failures with the record they occurred in.
    private static func context<T>(_ where_: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as PickleFailure {
            throw PickleFailure("\(where_): \(failure)")
        }
    }

    /// Turns internal failures into `FileError`s naming the file.
    static func reporting<T>(_ name: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as FileError {
            throw error
        } catch let failure as ZipArchive.Failure {
            throw FileError(file: name, problem: failure.description)
        } catch let failure as PickleFailure {
            throw FileError(file: name, problem: failure.description)
        } catch let failure as RebuildFailure {
            throw FileError(file: name, problem: failure.description)
        } catch is ByteReader.OutOfData {
            throw FileError(file: name, problem: "truncated PyTorch file")
        }
    }
}
