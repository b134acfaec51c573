import Foundation

/// Loading model weights from any supported file: PyTorch `.pth` (zip or legacy format,
/// plain state dict or training checkpoint) and `.safetensors`. The format is recognised by
/// its first bytes, not by the file extension.
public enum WeightFile {
    /// Container formats `load` recognises.
    public enum Format: String, Sendable, CustomStringConvertible {
        /// `torch.save` since torch 1.6: a zip archive of `data.pkl` and storage records.
        case pytorchZip = "pytorch-zip"
        /// `torch.save(..., _use_new_zipfile_serialization=False)`: consecutive pickles and raw storages.
        case pytorchLegacy = "pytorch-legacy"
        case safetensors

        public var description: String { rawValue }
    }

    /// Keys under which training checkpoints keep the model's state dict, in order of preference.
    public static let stateDictKeys = ["model", "state_dict", "model_state_dict"]

    /// Recognises a format from the first bytes of a file; nil when it is none of them.
    public static func format(of data: Data) -> Format? {
        data.withUnsafeBytes { format(ofBytes: $0) }
    }

    static func format(ofBytes bytes: UnsafeRawBufferPointer) -> Format? {
        if ZipArchive.hasSignature(bytes) { return .pytorchZip }
        if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]) { return .pytorchLegacy }
        // safetensors: an 8-byte header length, then a JSON object.
        if bytes.count >= 9, bytes[8] == UInt8(ascii: "{") {
            return .safetensors
        }
        return nil
    }

    /// Loads the model state dict of a weight file (see `LoadedWeights`).
    public static func load(_ url: URL) throws -> LoadedWeights {
        try load(data: try map(url), name: url.path)
    }

    /// Loads the model state dict of weight-file bytes; `name` is used in error messages.
    public static func load(data: Data, name: String = "<memory>") throws -> LoadedWeights {
        let detected = data.withUnsafeBytes { bytes in Self.format(ofBytes: bytes) }
        switch detected {
        case .safetensors?:
            let contents = try Safetensors.read(data: data, name: name)
            return LoadedWeights(format: .safetensors, tensors: contents.tensors, metadata: contents.metadata)
        case .pytorchZip?, .pytorchLegacy?:
            let root = try PyTorchFile.read(data: data, name: name)
            return try LoadedWeights(format: detected ?? .pytorchZip, root: root, name: name)
        case nil:
            throw FileError(file: name, problem: data.isEmpty ? "is empty" : unrecognisedProblem(data))
        }
    }

    private static func unrecognisedProblem(_ data: Data) -> String {
        // Before torch 0.4 (pre-1.0) `torch.save` wrote tar archives.
        if data.count > 262, data.subdata(in: 257..<262) == Data("ustar".utf8) {
            return "is a tar-format PyTorch file (torch < 0.4), which is not supported"
        }
        return "not a PyTorch or safetensors file"
    }

    /// Maps a file into memory.
    static func map(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? "cannot be read" : "does not exist"
            throw FileError(file: url.path, problem: reason)
        }
    }
}
