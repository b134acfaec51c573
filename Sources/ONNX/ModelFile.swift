import Diagnostics
import Foundation
import ONNXProto
import SwiftProtobuf
import Torch

/// Reading and writing ONNX model files (`.onnx`: one serialized `onnx.ModelProto`), with ONNX's
/// external-data convention for models that do not fit one protobuf message.
///
/// A protobuf message cannot exceed 2 GiB. When a model would serialize to more than
/// `externalDataThreshold` bytes, `write` moves the bytes of its large initializers into one file
/// beside the model, `<model file name>.data` (`detr.onnx` → `detr.onnx.data`), and leaves in each
/// such tensor `data_location = EXTERNAL` and the `external_data` entries `location` (the data
/// file's name, relative to the model's folder), `offset` and `length`, as onnx and onnxruntime
/// read them. Offsets are multiples of 4096 (so readers can map tensors page-aligned).
///
/// Every problem is a `FileError` (a `SubjectError`) naming the file concerned.
public enum ONNXModelFile {
    /// The default `externalDataThreshold`: a margin below protobuf's 2 GiB limit.
    public static let defaultExternalDataThreshold = 1_800_000_000
    /// Initializers with more `raw_data` bytes than this go to the external data file.
    public static let externalDataMinimumBytes = 1024
    /// External tensors start at multiples of this.
    public static let externalDataAlignment = 4096
    /// Protobuf's limit on one serialized message (2 GiB - 1).
    static let protobufLimit = 0x7fff_ffff

    /// The external data file `write` uses for a model written to `url`: `<file name>.data` beside it.
    public static func externalDataURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(url.lastPathComponent + ".data")
    }

    /// Serializes `model` to `url`, atomically (a temporary file in the same folder, then a rename).
    ///
    /// When the serialized model would be larger than `externalDataThreshold` bytes, every tensor of
    /// `graph.initializer` with more than 1 KiB of `raw_data` is moved into the external data file
    /// (`externalDataURL(for:)`, also written atomically, before the model). Initializers that hold
    /// their values in typed fields (`float_data`, ...) and tensors inside nodes stay in the model.
    /// Tensors already stored externally are left as they are (their locations are relative to the
    /// folder of `url`).
    public static func write(
        _ model: Onnx_ModelProto, to url: URL, externalDataThreshold: Int = defaultExternalDataThreshold
    ) throws {
        let path = url.path
        // The model without the bytes that could move out, and the bytes that could.
        var stripped = model
        var moved: [(index: Int, bytes: Data)] = []
        for (i, tensor) in model.graph.initializer.enumerated()
        where tensor.dataLocation != .external && tensor.rawData.count > externalDataMinimumBytes {
            moved.append((i, tensor.rawData))
            stripped.graph.initializer[i].clearRawData()
        }
        let strippedBytes: Data = try serialize(stripped, path: path)
        // An upper bound of the full size: each moved field costs its bytes, a tag, a length and
        // the growth of the length prefixes of its tensor, the graph and nothing else.
        let estimate = moved.reduce(strippedBytes.count + 20) { $0 + $1.bytes.count + 21 }

        if moved.isEmpty || estimate <= externalDataThreshold {
            if estimate >= protobufLimit {
                throw FileError(
                    file: path,
                    problem: "could not be written: the model is about \(estimate) bytes, over protobuf's 2 GiB limit "
                        + "(lower externalDataThreshold to store its initializers in an external data file)")
            }
            let bytes = moved.isEmpty ? strippedBytes : try serialize(model, path: path)
            try AtomicFile.write(bytes, to: url)
            return
        }

        let dataURL = externalDataURL(for: url)
        let dataName = dataURL.lastPathComponent
        var clash: String?
        forEachTensor(in: model) { tensor in
            if clash == nil, tensor.dataLocation == .external,
                tensor.externalData.contains(where: { $0.key == "location" && $0.value == dataName })
            {
                clash = tensor.name
            }
        }
        if let clash {
            throw FileError(
                file: path,
                problem: "could not be written: tensor '\(clash)' already refers to the external data file "
                    + "\(dataName), which this write replaces (read the model with loadExternalData: true first)")
        }

        var offset = 0
        var layout: [(offset: Int, bytes: Data)] = []
        for (index, bytes) in moved {
            offset = offset.roundedUp(toMultipleOf: externalDataAlignment)
            layout.append((offset, bytes))
            var tensor = stripped.graph.initializer[index]
            tensor.dataLocation = .external
            tensor.externalData = [
                entry("location", dataName), entry("offset", String(offset)), entry("length", String(bytes.count)),
            ]
            stripped.graph.initializer[index] = tensor
            offset += bytes.count
        }
        let modelBytes: Data = try serialize(stripped, path: path)
        if modelBytes.count >= protobufLimit {
            throw FileError(
                file: path,
                problem: "could not be written: even with its initializers in \(dataName) the model is "
                    + "\(modelBytes.count) bytes, over protobuf's 2 GiB limit")
        }

        let dataFile = try TemporaryFile(beside: dataURL)
        defer { dataFile.discard() }
        var written = 0
        for (start, bytes) in layout {
            if start > written { try dataFile.write(Data(count: start - written)) }
            try dataFile.write(bytes)
            written = start + bytes.count
        }
        try dataFile.close()
        let modelFile = try TemporaryFile(beside: url)
        defer { modelFile.discard() }
        try modelFile.write(modelBytes)
        try modelFile.close()
        // The data first: a model file never names data that is not there yet.
        try dataFile.commit()
        try modelFile.commit()
    }

    /// Reads the model serialized in `url`.
    ///
    /// With `loadExternalData`, the bytes of every tensor stored in external data (initializers,
    /// tensors of node attributes and subgraphs) are read into its `raw_data` from the files its
    /// `location` names, relative to the model's folder; the tensor is then an ordinary one
    /// (`data_location` DEFAULT, no `external_data`). Without it, such tensors keep their references.
    public static func read(_ url: URL, loadExternalData: Bool = false) throws -> Onnx_ModelProto {
        let path = url.path
        let data = try readFile(url, what: "ONNX model")
        if data.isEmpty {
            throw FileError(file: path, problem: "is empty, not an ONNX model")
        }
        var model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw FileError(file: path, problem: "is not an ONNX model (protobuf decoding failed: \(error))")
        }
        // Protobuf decodes many byte strings as some message of unknown fields: a model has both.
        guard model.hasIrVersion, model.hasGraph else {
            let missing = model.hasIrVersion ? "graph" : model.hasGraph ? "ir_version" : "ir_version and graph"
            throw FileError(file: path, problem: "is not an ONNX model (no \(missing))")
        }
        if loadExternalData {
            var loader = ExternalDataLoader(folder: url.deletingLastPathComponent(), modelPath: path)
            try updateTensors(in: &model) { try loader.load(&$0) }
        }
        return model
    }

    // MARK: - Helpers

    static func serialize(_ model: Onnx_ModelProto, path: String) throws -> Data {
        do {
            return try model.serializedBytes()
        } catch BinaryEncodingError.missingRequiredFields {
            // onnx.proto has no required fields: swift-protobuf throws this for messages over 2 GiB.
            throw FileError(file: path, problem: "could not be written: the model is over protobuf's 2 GiB limit")
        } catch {
            throw FileError(file: path, problem: "could not be written: the model does not serialize (\(error))")
        }
    }

    static func entry(_ key: String, _ value: String) -> Onnx_StringStringEntryProto {
        var e = Onnx_StringStringEntryProto()
        e.key = key
        e.value = value
        return e
    }

    /// The bytes of a file, mapped where possible; a missing or unreadable file is a `FileError`.
    static func readFile(_ url: URL, what: String, neededBy: String = "") throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw FileError(file: url.path, problem: "does not exist\(neededBy)")
        }
        if isDirectory.boolValue {
            throw FileError(file: url.path, problem: "is a directory, not an \(what) file\(neededBy)")
        }
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            let reason = (error as NSError).userInfo[NSUnderlyingErrorKey].map { "\($0)" } ?? error.localizedDescription
            throw FileError(file: url.path, problem: "could not be read (\(reason))\(neededBy)")
        }
    }
}

/// Reads external tensor data, each data file once.
private struct ExternalDataLoader {
    let folder: URL
    let modelPath: String
    var files: [String: Data] = [:]

    mutating func load(_ tensor: inout Onnx_TensorProto) throws {
        guard tensor.dataLocation == .external else { return }
        var entries: [String: String] = [:]
        for e in tensor.externalData { entries[e.key] = e.value }
        let name = tensor.name.isEmpty ? "an unnamed tensor" : "tensor '\(tensor.name)'"
        func problem(_ text: String) -> FileError { FileError(file: modelPath, problem: "\(name): \(text)") }
        guard let location = entries["location"], !location.isEmpty else {
            throw problem("external data without a location")
        }
        if location.hasPrefix("/") || location.split(separator: "/").contains("..") {
            throw problem("external data location '\(location)' is outside the model's folder")
        }
        func number(_ key: String) throws -> Int? {
            guard let text = entries[key] else { return nil }
            guard let n = Int(text), n >= 0 else { throw problem("external data \(key) '\(text)' is not a byte count") }
            return n
        }
        let offset = try number("offset") ?? 0
        let length = try number("length")
        let url = folder.appendingPathComponent(location)
        let data: Data
        if let cached = files[url.path] {
            data = cached
        } else {
            data = try ONNXModelFile.readFile(
                url, what: "external data", neededBy: " (external data of \(name) of \(modelPath))")
            files[url.path] = data
        }
        let end = length.map { offset + $0 } ?? data.count
        guard offset <= end, end <= data.count else {
            throw FileError(
                file: url.path,
                problem: "is \(data.count) bytes, but \(name) of \(modelPath) needs bytes \(offset)..<\(end)")
        }
        tensor.rawData = data.subdata(in: (data.startIndex + offset)..<(data.startIndex + end))
        tensor.externalData = []
        tensor.clearDataLocation()
    }
}

/// A temporary file beside a target, written with checked writes, flushed to disk and renamed over
/// the target; removed unless committed.
private final class TemporaryFile {
    let target: URL
    let url: URL
    private var fd: Int32
    private var committed = false

    init(beside target: URL) throws {
        self.target = target
        url = target.deletingLastPathComponent().appendingPathComponent(
            ".\(target.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        )
        fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw FileError(
                file: target.path, problem: "could not be written (\(String(cString: strerror(errno))))")
        }
    }

    func write(_ data: Data) throws {
        let failure = AtomicFile.writeAll(data, to: fd)
        if failure != 0 { throw failed(failure) }
    }

    /// Flushes the file to disk and closes it.
    func close() throws {
        var failure: Int32 = 0
        if fsync(fd) != 0 { failure = errno }
        if Foundation.close(fd) != 0 && failure == 0 { failure = errno }
        fd = -1
        if failure != 0 { throw failed(failure) }
    }

    func commit() throws {
        if rename(url.path, target.path) != 0 { throw failed(errno) }
        committed = true
    }

    /// Removes the temporary file unless it was committed.
    func discard() {
        if fd >= 0 {
            _ = Foundation.close(fd)
            fd = -1
        }
        if !committed { unlink(url.path) }
    }

    private func failed(_ code: Int32) -> FileError {
        FileError(file: target.path, problem: "could not be written (\(String(cString: strerror(code))))")
    }
}

// MARK: - Every tensor of a model

extension ONNXModelFile {
    /// Calls `body` with every tensor of `model`: graph initializers, sparse initializers (values and
    /// indices), tensors of node attributes, and those of subgraphs, functions and training graphs.
    static func forEachTensor(in model: Onnx_ModelProto, _ body: (Onnx_TensorProto) throws -> Void) rethrows {
        func graph(_ g: Onnx_GraphProto) throws {
            for t in g.initializer { try body(t) }
            for s in g.sparseInitializer { try sparse(s) }
            try nodes(g.node)
        }
        func sparse(_ s: Onnx_SparseTensorProto) throws {
            if s.hasValues { try body(s.values) }
            if s.hasIndices { try body(s.indices) }
        }
        func nodes(_ list: [Onnx_NodeProto]) throws {
            for node in list {
                for a in node.attribute {
                    if a.hasT { try body(a.t) }
                    for t in a.tensors { try body(t) }
                    if a.hasSparseTensor { try sparse(a.sparseTensor) }
                    for s in a.sparseTensors { try sparse(s) }
                    if a.hasG { try graph(a.g) }
                    for g in a.graphs { try graph(g) }
                }
            }
        }
        if model.hasGraph { try graph(model.graph) }
        for f in model.functions { try nodes(f.node) }
        for info in model.trainingInfo {
            if info.hasInitialization { try graph(info.initialization) }
            if info.hasAlgorithm { try graph(info.algorithm) }
        }
    }

    /// `forEachTensor(in:_:)` that can change the tensors.
    static func updateTensors(in model: inout Onnx_ModelProto, _ body: (inout Onnx_TensorProto) throws -> Void) rethrows
    {
        func graph(_ g: inout Onnx_GraphProto) throws {
            for i in g.initializer.indices { try body(&g.initializer[i]) }
            for i in g.sparseInitializer.indices { try sparse(&g.sparseInitializer[i]) }
            try nodes(&g.node)
        }
        func sparse(_ s: inout Onnx_SparseTensorProto) throws {
            if s.hasValues { try body(&s.values) }
            if s.hasIndices { try body(&s.indices) }
        }
        func nodes(_ list: inout [Onnx_NodeProto]) throws {
            for n in list.indices {
                for i in list[n].attribute.indices {
                    var a = list[n].attribute[i]
                    guard
                        a.hasT || !a.tensors.isEmpty || a.hasSparseTensor || !a.sparseTensors.isEmpty || a.hasG
                            || !a.graphs.isEmpty
                    else { continue }
                    if a.hasT { try body(&a.t) }
                    for j in a.tensors.indices { try body(&a.tensors[j]) }
                    if a.hasSparseTensor { try sparse(&a.sparseTensor) }
                    for j in a.sparseTensors.indices { try sparse(&a.sparseTensors[j]) }
                    if a.hasG { try graph(&a.g) }
                    for j in a.graphs.indices { try graph(&a.graphs[j]) }
                    list[n].attribute[i] = a
                }
            }
        }
        if model.hasGraph { try graph(&model.graph) }
        for i in model.functions.indices { try nodes(&model.functions[i].node) }
        for i in model.trainingInfo.indices {
            if model.trainingInfo[i].hasInitialization { try graph(&model.trainingInfo[i].initialization) }
            if model.trainingInfo[i].hasAlgorithm { try graph(&model.trainingInfo[i].algorithm) }
        }
    }
}
