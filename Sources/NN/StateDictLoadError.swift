import Diagnostics

/// Why a state dict does not fit a module: every problem at once, so one run shows them all.
public struct StateDictLoadError: SubjectError, Equatable {
    /// A tensor whose checkpoint shape differs from the module's.
    public struct ShapeMismatch: Equatable, Sendable {
        public var key: String
        /// Shape in the checkpoint.
        public var checkpoint: [Int]
        /// Shape the module registered.
        public var model: [Int]

        public init(key: String, checkpoint: [Int], model: [Int]) {
            self.key = key
            self.checkpoint = checkpoint
            self.model = model
        }
    }

    /// Keys the module needs that the checkpoint lacks.
    public var missingKeys: [String]
    /// Keys of the checkpoint no module uses.
    public var unexpectedKeys: [String]
    public var shapeMismatches: [ShapeMismatch]
    /// Where the state dict came from (a file name), for the message; may be empty.
    public var source: String

    public init(
        missingKeys: [String], unexpectedKeys: [String], shapeMismatches: [ShapeMismatch],
        source: String = ""
    ) {
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
        self.shapeMismatches = shapeMismatches
        self.source = source
    }

    /// At most this many keys of each list are named in `description`.
    static let listedPerKind = 40

    public var subject: String? { nil }

    public var problem: String {
        var lines = ["state dict\(source.isEmpty ? "" : " " + source) does not match the model:"]
        func list(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            lines.append("  \(title) (\(items.count)):")
            for item in items.prefix(Self.listedPerKind) { lines.append("    \(item)") }
            if items.count > Self.listedPerKind { lines.append("    ... and \(items.count - Self.listedPerKind) more") }
        }
        list("missing keys", missingKeys)
        list("unexpected keys", unexpectedKeys)
        list("shape mismatches", shapeMismatches.map { "\($0.key): checkpoint \($0.checkpoint), model \($0.model)" })
        return lines.joined(separator: "\n")
    }
}

/// What a successful non-strict load skipped.
public struct StateDictLoadReport: Equatable, Sendable {
    /// Keys the module has that the checkpoint lacked (left unchanged).
    public var missingKeys: [String]
    /// Checkpoint keys that no module uses (ignored).
    public var unexpectedKeys: [String]
}
