import Foundation
import Detection
import Torch

/// Appends one JSON object per line to `log.jsonl` (flushed per line, so a crash loses at most
/// the line being written).
public final class TrainingLog {
    let handle: FileHandle
    public let url: URL

    public init(url: URL) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    public func write(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        handle.write(data + Data("\n".utf8))
        try? handle.synchronize()
    }
}

/// Loading initial weights for fine-tuning: tensors whose shape differs (typically the class
/// head when num_classes changes) keep their fresh initialisation.
public enum InitialWeights {
    /// - Returns: keys left at their initialisation (shape mismatch or absent from the file).
    @discardableResult
    public static func load(_ url: URL, into model: any Detector) throws -> [String] {
        let loaded = try WeightFile.load(url)
        var tensors = loaded.metadata["format"] == DetectorFactory.checkpointFormatTag
            ? loaded.tensors.stripping(prefix: "model.") : loaded.tensors
        let own = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.key, $0.value.shape) })
        var reinitialised: [String] = []
        for (k, v) in tensors where own[k] != nil && own[k] != v.shape {
            tensors[k] = nil
            reinitialised.append(k)
        }
        let report = try model.load(stateDict: tensors, strict: false, source: url.path)
        return reinitialised + report.missingKeys
    }
}
