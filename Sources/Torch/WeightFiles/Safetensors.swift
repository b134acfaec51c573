import Foundation

/// Reads and writes the `.safetensors` format: an 8-byte little-endian header length,
/// a JSON header `{name: {dtype, shape, data_offsets}, "__metadata__": {..}}`, then raw
/// little-endian tensor bytes.
public enum Safetensors {
    /// The largest header we accept (the format's reference implementation uses 100 MB).
    static let maxHeaderBytes = 100_000_000

    static let dtypeNames: [(String, DType)] = [
        ("F32", .float32), ("F16", .float16), ("BF16", .bfloat16), ("F64", .float64),
        ("I64", .int64), ("I32", .int32), ("U8", .uint8), ("BOOL", .bool), ("I8", .int8), ("I16", .int16),
    ]

    static func dtype(named name: String) -> DType? { dtypeNames.first { $0.0 == name }?.1 }
    static func name(of dtype: DType) -> String { dtypeNames.first { $0.1 == dtype }!.0 }

    /// Tensors and metadata of a safetensors file.
    public struct Contents: @unchecked Sendable {
        public var tensors: StateDict
        public var metadata: [String: String]
    }

    public static func read(contentsOf url: URL) throws -> Contents {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw FileError(file: url.path, problem: "cannot be read (\(error.localizedDescription))")
        }
        return try read(data: data, name: url.path)
    }

    /// Parses safetensors bytes; `name` is used in error messages.
    public static func read(data: Data, name: String = "<memory>") throws -> Contents {
        let data = data.startIndex == 0 ? data : Data(data)
        func fail(_ problem: String) -> FileError { FileError(file: name, problem: problem) }
        guard data.count >= 8 else { throw fail("is not a safetensors file (shorter than its 8-byte header length)") }
        let lenBytes = [UInt8](data.prefix(8))
        let headerLen = (0..<8).reduce(UInt64(0)) { $0 | UInt64(lenBytes[$1]) << (8 * UInt64($1)) }
        guard headerLen <= UInt64(min(maxHeaderBytes, data.count - 8)) else {
            throw fail("is not a safetensors file or is truncated (header length \(headerLen) exceeds the file)")
        }
        let headerEnd = 8 + Int(headerLen)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd))
        } catch {
            throw fail("has a malformed safetensors JSON header")
        }
        guard let header = json as? [String: Any] else { throw fail("safetensors header is not a JSON object") }
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let m = meta as? [String: Any] else { throw fail("__metadata__ is not a JSON object") }
            for (k, v) in m {
                guard let s = v as? String else { throw fail("__metadata__ value for '\(k)' is not a string") }
                metadata[k] = s
            }
        }
        let dataSize = data.count - headerEnd
        var entries: [(name: String, begin: Int, end: Int, dtype: DType, shape: [Int])] = []
        for (key, value) in header where key != "__metadata__" {
            guard let info = value as? [String: Any],
                let dtypeName = info["dtype"] as? String,
                let shapeAny = info["shape"] as? [Any],
                let offsetsAny = info["data_offsets"] as? [Any], offsetsAny.count == 2
            else { throw fail("tensor '\(key)' has an invalid header entry") }
            guard let dtype = dtype(named: dtypeName) else {
                throw fail("tensor '\(key)' has unsupported dtype \(dtypeName)")
            }
            let shape = try shapeAny.map { v -> Int in
                guard let n = (v as? NSNumber)?.int64Value, n >= 0, n < Int64(Int32.max) else {
                    throw fail("tensor '\(key)' has an invalid shape")
                }
                return Int(n)
            }
            let offs = try offsetsAny.map { v -> Int in
                guard let n = (v as? NSNumber)?.int64Value, n >= 0, n <= Int64(dataSize) else {
                    throw fail("tensor '\(key)' has data offsets outside the file (truncated?)")
                }
                return Int(n)
            }
            var numel = 1
            for d in shape {
                let (m, overflow) = numel.multipliedReportingOverflow(by: d)
                guard !overflow, m <= dataSize else { throw fail("tensor '\(key)' has a shape larger than the file") }
                numel = m
            }
            guard offs[0] <= offs[1], offs[1] - offs[0] == numel * dtype.byteSize else {
                throw fail(
                    """
                    tensor '\(key)' has \(offs[1] - offs[0]) data bytes but shape \(shape) of \(dtype) needs \
                    \(numel * dtype.byteSize)
                    """
                )
            }
            entries.append((key, offs[0], offs[1], dtype, shape))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        var tensors = StateDict()
        try data.withUnsafeBytes { raw in
            for e in entries {
                let slice = UnsafeRawBufferPointer(rebasing: raw[(headerEnd + e.begin)..<(headerEnd + e.end)])
                tensors[e.name] = try Tensor(bytes: slice, dtype: e.dtype, shape: e.shape)
            }
        }
        return Contents(tensors: tensors, metadata: metadata)
    }

    /// Serialises tensors (in the dictionary's order) and string metadata.
    public static func serialize(_ tensors: StateDict, metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var blobs: [[UInt8]] = []
        var offset = 0
        for (name, t) in tensors {
            let bytes = t.bytes()
            header[name] = [
                "dtype": Self.name(of: t.dtype), "shape": t.shape, "data_offsets": [offset, offset + bytes.count],
            ]
            offset += bytes.count
            blobs.append(bytes)
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // align data to 8 bytes, as the reference writer does
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for b in blobs { out.append(contentsOf: b) }
        return out
    }

    /// Writes atomically: to a temporary file beside `url`, then renamed over it.
    public static func write(_ tensors: StateDict, metadata: [String: String] = [:], to url: URL) throws {
        let data = try serialize(tensors, metadata: metadata)
        try AtomicFile.write(data, to: url)
    }
}
