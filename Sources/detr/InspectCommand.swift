import ArgumentParser
import Foundation
import Torch

/// `detr inspect FILE`: lists the tensors of a weight file.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the tensors of a weight file (.pth or .safetensors).",
        discussion: """
            Shows each tensor's state-dict key, dtype and shape (and with --checksums the SHA-256 of \
            its contiguous little-endian bytes). For a training checkpoint the tensors listed are those \
            of its model state dict ("model", "state_dict" or "model_state_dict") under their bare keys; \
            the other top-level entries (args, epoch, optimizer, ...) are summarised after the table.
            """
    )

    @Argument(help: "The weight file: a PyTorch .pth (zip or legacy format) or a .safetensors file.")
    var file: String

    @Flag(help: "Print JSON: {\"tensors\": [{\"name\", \"dtype\", \"shape\", \"sha256\"}], \"other\": [...]}.")
    var json = false

    @Flag(help: "Add the SHA-256 of each tensor's contiguous little-endian bytes.")
    var checksums = false

    func run() throws {
        let weights: LoadedWeights
        do {
            weights = try WeightFile.load(URL(fileURLWithPath: file))
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        let rows = weights.tensors.map { name, tensor in
            Row(
                name: name, dtype: tensor.dtype.description, shape: tensor.shape,
                sha256: checksums ? Self.sha256(tensor) : nil)
        }
        let others = weights.otherEntries.map { Other(key: $0.key, summary: $0.summary) }
        if json {
            try printJSON(weights, rows, others)
        } else {
            printTable(weights, rows, others)
        }
    }

    struct Row: Encodable {
        var name: String
        var dtype: String
        var shape: [Int]
        var sha256: String?
    }

    struct Other: Encodable {
        var key: String
        var summary: String
    }

    struct Report: Encodable {
        var file: String
        var format: String
        var stateDictKey: String?
        var count: Int
        var tensors: [Row]
        var other: [Other]

        enum CodingKeys: String, CodingKey {
            case file, format, stateDictKey = "state_dict_key", count, tensors, other
        }
    }

    private func printJSON(_ weights: LoadedWeights, _ rows: [Row], _ others: [Other]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let report = Report(
            file: file, format: weights.format.rawValue, stateDictKey: weights.stateDictKey,
            count: rows.count, tensors: rows, other: others)
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }

    private func printTable(_ weights: LoadedWeights, _ rows: [Row], _ others: [Other]) {
        let source = weights.stateDictKey.map { ", state dict from checkpoint entry '\($0)'" } ?? ""
        print("\(file): \(weights.format), \(rows.count) tensor\(rows.count == 1 ? "" : "s")\(source)")
        guard !rows.isEmpty || !others.isEmpty else { return }
        let shapes = rows.map { "[" + $0.shape.map(String.init).joined(separator: ", ") + "]" }
        let nameWidth = max(4, rows.map(\.name.count).max() ?? 0)
        let dtypeWidth = max(5, rows.map(\.dtype.count).max() ?? 0)
        let shapeWidth = max(5, shapes.map(\.count).max() ?? 0)
        func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
        if !rows.isEmpty {
            var header = "\(pad("name", nameWidth))  \(pad("dtype", dtypeWidth))  \(pad("shape", shapeWidth))"
            if checksums { header += "  sha256" }
            print(header.trimmingTrailingSpaces)
            for (row, shape) in zip(rows, shapes) {
                var line = "\(pad(row.name, nameWidth))  \(pad(row.dtype, dtypeWidth))  \(pad(shape, shapeWidth))"
                if let sha = row.sha256 { line += "  \(sha)" }
                print(line.trimmingTrailingSpaces)
            }
        }
        if !others.isEmpty {
            print("\nother entries:")
            let keyWidth = others.map(\.key.count).max() ?? 0
            for o in others { print("  \(pad(o.key, keyWidth))  \(o.summary)") }
        }
    }

    private static func sha256(_ tensor: Tensor) -> String {
        tensor.bytes().withUnsafeBytes { Torch.sha256($0) }.map { String(format: "%02x", $0) }.joined()
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
