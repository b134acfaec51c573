import ArgumentParser
import Foundation
import ONNX
import Torch

/// `detr inspect FILE`: lists the tensors of a weight file, or summarises an ONNX model.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the tensors of a weight file (.pth or .safetensors) or summarise an ONNX model (.onnx).",
        discussion: """
            Shows each tensor's state-dict key, dtype and shape (and with --checksums the SHA-256 of \
            its contiguous little-endian bytes). For a training checkpoint the tensors listed are those \
            of its model state dict ("model", "state_dict" or "model_state_dict") under their bare keys; \
            the other top-level entries (args, epoch, optimizer, ...) are summarised after the table.

            For an ONNX model (a file ending in .onnx) it shows the IR version, the opset imports, the \
            producer, the graph's inputs and outputs (element type and shape, symbolic dimensions by \
            name), how many nodes run each operator, and the count and bytes of the initializers, with \
            the external data files they are stored in, if any (those files are not read). --json \
            prints the same as one JSON object.
            """
    )

    @Argument(
        help: "The weight file: a PyTorch .pth (zip or legacy format) or a .safetensors file; or an ONNX .onnx model.")
    var file: String

    @Flag(
        help: """
            Print JSON: {\"tensors\": [{\"name\", \"dtype\", \"shape\", \"sha256\"}], \"other\": [...]}; \
            for an .onnx model its summary (ir_version, opset_imports, inputs, outputs, operators, ...).
            """)
    var json = false

    @Flag(help: "Add the SHA-256 of each tensor's contiguous little-endian bytes (weight files only).")
    var checksums = false

    func validate() throws {
        if isONNX && checksums {
            throw ValidationError("--checksums applies to weight files, not to ONNX models")
        }
    }

    var isONNX: Bool { file.lowercased().hasSuffix(".onnx") }

    func run() throws {
        if isONNX {
            try inspectONNX()
            return
        }
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

    // MARK: - ONNX models

    private func inspectONNX() throws {
        let summary: ONNXModelSummary
        do {
            summary = ONNXModelSummary(try ONNXModelFile.read(URL(fileURLWithPath: file)))
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(ONNXReport(file: file, summary: summary)), as: UTF8.self))
        } else {
            Self.printSummary(summary, file: file)
        }
    }

    /// The JSON of an ONNX model: its file, then the summary's keys.
    struct ONNXReport: Encodable {
        var file: String
        var format = "onnx"
        var summary: ONNXModelSummary

        enum CodingKeys: String, CodingKey { case file, format }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(file, forKey: .file)
            try c.encode(format, forKey: .format)
            try summary.encode(to: encoder)
        }
    }

    static func printSummary(_ s: ONNXModelSummary, file: String) {
        func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
        func domain(_ d: String) -> String { d.isEmpty ? "ai.onnx" : d }
        let opsets = s.opsetImports.map { "\(domain($0.domain)) \($0.version)" }.joined(separator: ", ")
        var head = "\(file): onnx, IR version \(s.irVersion)"
        if !opsets.isEmpty { head += ", opset \(opsets)" }
        let producer = [s.producerName, s.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        if !producer.isEmpty { head += ", produced by \(producer)" }
        print(head)
        let graphName = s.graphName.isEmpty ? "" : " '\(s.graphName)'"
        var body = "graph\(graphName): \(s.nodeCount) node\(s.nodeCount == 1 ? "" : "s"), "
        body +=
            "\(s.initializerCount) initializer\(s.initializerCount == 1 ? "" : "s") (\(byteString(s.initializerBytes))"
        if s.usesExternalData { body += ", external data in \(s.externalDataFiles.joined(separator: ", "))" }
        print(body + ")")

        for (title, values) in [("inputs", s.inputs), ("outputs", s.outputs)] where !values.isEmpty {
            print("\n\(title):")
            let shapes = values.map { v in
                v.shape.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" } ?? "unknown"
            }
            let nameWidth = max(4, values.map(\.name.count).max() ?? 0)
            let typeWidth = max(4, values.map(\.type.count).max() ?? 0)
            print("  \(pad("name", nameWidth))  \(pad("type", typeWidth))  shape")
            for (v, shape) in zip(values, shapes) {
                print("  \(pad(v.name, nameWidth))  \(pad(v.type, typeWidth))  \(shape)".trimmingTrailingSpaces)
            }
        }
        if !s.operators.isEmpty {
            print("\noperators:")
            let names = s.operators.map { $0.domain.isEmpty ? $0.opType : "\($0.domain).\($0.opType)" }
            let nameWidth = names.map(\.count).max() ?? 0
            let countWidth = s.operators.map { String($0.count).count }.max() ?? 0
            for (name, op) in zip(names, s.operators) {
                let count = String(op.count)
                print("  \(pad(name, nameWidth))  \(String(repeating: " ", count: countWidth - count.count))\(count)")
            }
        }
    }

    /// "1234 bytes", "12.3 KiB", "4.5 MiB", "1.2 GiB".
    static func byteString(_ n: Int64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard n >= 1024 else { return "\(n) byte\(n == 1 ? "" : "s")" }
        var value = Double(n) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f %@", value, units[unit])
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
