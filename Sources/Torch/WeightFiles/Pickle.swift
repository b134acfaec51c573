import Foundation

/// Reading a standalone Python pickle (protocols 0-5) into a `PickleValue` without executing
/// anything. For `torch.save` files use `PyTorchFile` or `WeightFile`, which also supply the
/// tensor storages a pickle refers to.
public enum Pickle {
    /// Reads the first pickle in `data`; `name` is used in error messages.
    public static func load(_ data: Data, name: String = "<pickle>") throws -> PickleValue {
        try PyTorchFile.reporting(name) {
            try data.withUnsafeBytes { bytes in
                let arena = PickleArena()
                var unpickler = Unpickler(bytes, arena: arena)
                let root = try unpickler.load()
                let table = StorageTable(records: [:])
                var builder = PickleValueBuilder(rebuild: table.tensor(for:))
                return try builder.value(of: root)
            }
        }
    }
}
