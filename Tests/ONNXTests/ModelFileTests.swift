import Diagnostics
import Foundation
import ONNX
import ONNXProto
import TestSupport
import Testing

/// `ONNXModelFile` (writing, external data, reading) and `ONNXModelSummary` on a hand-built model:
/// y = x + w, with `w` a float32 initializer.
@Suite struct ModelFileTests {
    /// The model, with `w` of `count` floats (`count` × 4 bytes of raw_data) plus a small `b`.
    static func addModel(count: Int = 2048) -> Onnx_ModelProto {
        func dim(_ n: Int64) -> Onnx_TensorShapeProto.Dimension {
            var d = Onnx_TensorShapeProto.Dimension()
            d.dimValue = n
            return d
        }
        func value(_ name: String, _ dims: [Onnx_TensorShapeProto.Dimension]) -> Onnx_ValueInfoProto {
            var tensor = Onnx_TypeProto.Tensor()
            tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            tensor.shape.dim = dims
            var info = Onnx_ValueInfoProto()
            info.name = name
            info.type.tensorType = tensor
            return info
        }
        var batch = Onnx_TensorShapeProto.Dimension()
        batch.dimParam = "batch"

        var w = Onnx_TensorProto()
        w.name = "w"
        w.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        w.dims = [Int64(count)]
        w.rawData = Self.floatBytes(count)
        var b = Onnx_TensorProto()
        b.name = "b"
        b.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        b.dims = [2]
        b.int64Data = [1, 2]

        var add = Onnx_NodeProto()
        add.opType = "Add"
        add.name = "add"
        add.input = ["x", "w"]
        add.output = ["y"]
        var identity = Onnx_NodeProto()
        identity.opType = "Identity"
        identity.input = ["b"]
        identity.output = ["c"]

        var graph = Onnx_GraphProto()
        graph.name = "add_graph"
        graph.node = [add, identity]
        graph.initializer = [w, b]
        graph.input = [value("x", [batch, dim(Int64(count))]), value("w", [dim(Int64(count))])]
        graph.output = [value("y", [batch, dim(Int64(count))])]

        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = 17
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.opsetImport = [opset]
        model.producerName = "swift-detr-tests"
        model.producerVersion = "1.0"
        model.graph = graph
        return model
    }

    /// Little-endian float32 bytes of 0, 0.5, 1, ... (distinct, so a misplaced offset shows).
    static func floatBytes(_ count: Int) -> Data {
        var data = Data(capacity: count * 4)
        for i in 0..<count {
            withUnsafeBytes(of: (Float(i) * 0.5).bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        return data
    }

    static func size(_ url: URL) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
    }

    @Test func writesAndReadsBack() throws {
        let dir = try TestSupport.temporaryDirectory("onnx-roundtrip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("add.onnx")
        let model = Self.addModel()
        try ONNXModelFile.write(model, to: url)
        #expect(!FileManager.default.fileExists(atPath: ONNXModelFile.externalDataURL(for: url).path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["add.onnx"])  // no temporary left
        let back = try ONNXModelFile.read(url)
        #expect(back == model)

        let s = ONNXModelSummary(back)
        #expect(s.irVersion == 8)
        #expect(s.opsetImports == [.init(domain: "", version: 17)])
        #expect(s.producerName == "swift-detr-tests" && s.producerVersion == "1.0")
        #expect(s.graphName == "add_graph")
        // w is an initializer, not an input
        #expect(s.inputs == [.init(name: "x", type: "float32", shape: [.param("batch"), .value(2048)])])
        #expect(s.outputs == [.init(name: "y", type: "float32", shape: [.param("batch"), .value(2048)])])
        #expect(
            s.operators == [
                .init(opType: "Add", domain: "", count: 1), .init(opType: "Identity", domain: "", count: 1),
            ])
        #expect(s.nodeCount == 2)
        #expect(s.initializerCount == 2)
        #expect(s.initializerBytes == 2048 * 4 + 2 * 8)  // raw_data, then int64_data counted by element
        #expect(!s.usesExternalData && s.externalDataFiles.isEmpty)

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try #require(try JSONSerialization.jsonObject(with: encoder.encode(s)) as? [String: Any])
        #expect(json["ir_version"] as? Int == 8)
        #expect(json["node_count"] as? Int == 2)
        #expect(json["uses_external_data"] as? Bool == false)
        let input = try #require((json["inputs"] as? [[String: Any]])?.first)
        #expect(input["type"] as? String == "float32")
        #expect((input["shape"] as? [Any])?.first as? String == "batch")
        #expect((input["shape"] as? [Any])?.last as? Int == 2048)
        #expect((json["operators"] as? [[String: Any]])?.first?["op_type"] as? String == "Add")
    }

    @Test func operatorsSortByCountThenName() {
        var model = Self.addModel(count: 4)
        var relu = Onnx_NodeProto()
        relu.opType = "Relu"
        var custom = Onnx_NodeProto()
        custom.opType = "Fused"
        custom.domain = "com.example"
        model.graph.node += [relu, relu, custom]
        let ops = ONNXModelSummary(model).operators
        #expect(ops.map(\.opType) == ["Relu", "Add", "Fused", "Identity"])
        #expect(ops.map(\.count) == [2, 1, 1, 1])
        #expect(ops[2].domain == "com.example")
    }

    @Test func largeModelMovesInitializersToExternalData() throws {
        let dir = try TestSupport.temporaryDirectory("onnx-external")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("add.onnx")
        let dataURL = dir.appendingPathComponent("add.onnx.data")
        #expect(ONNXModelFile.externalDataURL(for: url) == dataURL)
        var model = Self.addModel()
        var second = model.graph.initializer[0]
        second.name = "w2"
        second.rawData = Self.floatBytes(300)  // 1200 bytes: over 1 KiB, moves too, at offset 8192
        second.dims = [300]
        var small = second
        small.name = "w3"
        small.rawData = Self.floatBytes(10)  // 40 bytes: stays
        small.dims = [10]
        model.graph.initializer += [second, small]

        try ONNXModelFile.write(model, to: url, externalDataThreshold: 1000)
        #expect(FileManager.default.fileExists(atPath: dataURL.path))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["add.onnx", "add.onnx.data"])
        #expect(try Self.size(url) < 1000)
        #expect(try Self.size(dataURL) == 8192 + 1200)

        let stored = try ONNXModelFile.read(url)
        let w = stored.graph.initializer[0]
        #expect(w.dataLocation == .external && !w.hasRawData)
        let entries = Dictionary(uniqueKeysWithValues: w.externalData.map { ($0.key, $0.value) })
        #expect(entries == ["location": "add.onnx.data", "offset": "0", "length": "8192"])
        let w2 = Dictionary(uniqueKeysWithValues: stored.graph.initializer[2].externalData.map { ($0.key, $0.value) })
        #expect(w2 == ["location": "add.onnx.data", "offset": "8192", "length": "1200"])
        #expect(stored.graph.initializer[1] == model.graph.initializer[1])  // int64_data: stays
        #expect(stored.graph.initializer[3] == model.graph.initializer[3])  // small: stays

        let s = ONNXModelSummary(stored)
        #expect(s.usesExternalData && s.externalDataFiles == ["add.onnx.data"])
        #expect(s.initializerBytes == ONNXModelSummary(model).initializerBytes)

        let loaded = try ONNXModelFile.read(url, loadExternalData: true)
        #expect(loaded == model)
        #expect(loaded.graph.initializer[0].rawData == Self.floatBytes(2048))

        // Writing the loaded model again in place replaces both files; the model as stored (its
        // tensors referring to the data file) can be written back too, the data file untouched.
        try ONNXModelFile.write(loaded, to: url, externalDataThreshold: 1000)
        #expect(try ONNXModelFile.read(url, loadExternalData: true) == model)
        try ONNXModelFile.write(stored, to: url, externalDataThreshold: 1000)
        #expect(try ONNXModelFile.read(url) == stored)
        #expect(try ONNXModelFile.read(url, loadExternalData: true) == model)
        // But a write that would replace the data file its tensors refer to is refused.
        var mixed = stored
        mixed.graph.initializer.append(model.graph.initializer[2])
        let clash = try #require(throws: FileError.self) {
            try ONNXModelFile.write(mixed, to: url, externalDataThreshold: 1000)
        }
        #expect(clash.file == url.path && clash.problem.contains("tensor 'w'"))
        #expect(try ONNXModelFile.read(url, loadExternalData: true) == model)
    }

    @Test func missingExternalDataNamesTheFile() throws {
        let dir = try TestSupport.temporaryDirectory("onnx-missing-data")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("add.onnx")
        try ONNXModelFile.write(Self.addModel(), to: url, externalDataThreshold: 100)
        let dataURL = ONNXModelFile.externalDataURL(for: url)
        try FileManager.default.removeItem(at: dataURL)
        _ = try ONNXModelFile.read(url)  // references alone are fine
        let error = try #require(throws: FileError.self) { try ONNXModelFile.read(url, loadExternalData: true) }
        #expect(error.file == dataURL.path)
        #expect(error.description.contains("does not exist") && error.description.contains("tensor 'w'"))
        #expect(!error.description.contains("\n"))

        // A data file too short for the tensor.
        try Data(count: 100).write(to: dataURL)
        let short = try #require(throws: FileError.self) { try ONNXModelFile.read(url, loadExternalData: true) }
        #expect(short.file == dataURL.path && short.problem.contains("0..<8192"))
    }

    @Test func externalLocationOutsideTheFolderIsRefused() throws {
        let dir = try TestSupport.temporaryDirectory("onnx-escape")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.onnx")
        var model = Self.addModel(count: 4)
        var entry = Onnx_StringStringEntryProto()
        entry.key = "location"
        entry.value = "../secret.bin"
        model.graph.initializer[0].clearRawData()
        model.graph.initializer[0].dataLocation = .external
        model.graph.initializer[0].externalData = [entry]
        try ONNXModelFile.write(model, to: url)
        let error = try #require(throws: FileError.self) { try ONNXModelFile.read(url, loadExternalData: true) }
        #expect(error.file == url.path && error.problem.contains("outside the model's folder"))
    }

    @Test(arguments: [
        ("corrupt", Data([0x08, 0x96])), ("empty", Data()), ("text", Data("not a model at all".utf8)),
    ])
    func unreadableFilesNameTheFile(_ name: String, _ bytes: Data) throws {
        let dir = try TestSupport.temporaryDirectory("onnx-corrupt")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("\(name).onnx")
        try bytes.write(to: url)
        let error = try #require(throws: FileError.self) { try ONNXModelFile.read(url) }
        #expect(error.file == url.path)
        #expect(error.description.hasPrefix(url.path + ": "))
        #expect(!error.description.contains("\n"), "\(error)")

        let missing = try #require(throws: FileError.self) {
            try ONNXModelFile.read(dir.appendingPathComponent("absent.onnx"))
        }
        #expect(missing.description == dir.appendingPathComponent("absent.onnx").path + ": does not exist")
    }

    @Test func writeIntoMissingFolderNamesTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("absent-\(UUID().uuidString)/m.onnx")
        let error = try #require(throws: FileError.self) { try ONNXModelFile.write(Self.addModel(count: 4), to: url) }
        #expect(error.file == url.path)
        let external = try #require(throws: FileError.self) {
            try ONNXModelFile.write(Self.addModel(), to: url, externalDataThreshold: 10)
        }
        #expect(external.file == ONNXModelFile.externalDataURL(for: url).path)
    }

    @Test func elementTypeNames() {
        func name(_ t: Onnx_TensorProto.DataType) -> String { ONNXModelSummary.elementTypeName(Int32(t.rawValue)) }
        #expect(name(.float) == "float32" && name(.double) == "float64" && name(.int64) == "int64")
        #expect(name(.float16) == "float16" && name(.bfloat16) == "bfloat16" && name(.bool) == "bool")
        #expect(ONNXModelSummary.elementTypeName(999) == "type 999")
        for t in Onnx_TensorProto.DataType.allCases where t != .undefined && t != .string {
            #expect(ONNXModelSummary.elementBits(Int32(t.rawValue)) != nil, "\(t)")
        }
    }

    /// `detr inspect model.onnx`, as text and as JSON.
    @Test func inspectCommand() throws {
        let dir = try TestSupport.temporaryDirectory("onnx-inspect")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("add.onnx")
        try ONNXModelFile.write(Self.addModel(), to: url, externalDataThreshold: 1000)
        let text = try DetrProcess.run(["inspect", url.path])
        #expect(text.status == 0, "stderr: \(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "\(url.path): onnx, IR version 8, opset ai.onnx 17, produced by swift-detr-tests 1.0")
        #expect(lines.contains("graph 'add_graph': 2 nodes, 2 initializers (8.0 KiB, external data in add.onnx.data)"))
        #expect(lines.contains { $0.hasPrefix("  x ") && $0.hasSuffix("float32  [batch, 2048]") })
        #expect(lines.contains("  Add       1"))

        let json = try DetrProcess.run(["inspect", url.path, "--json"])
        #expect(json.status == 0, "stderr: \(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["file"] as? String == url.path)
        #expect(object["format"] as? String == "onnx")
        #expect(object["initializer_count"] as? Int == 2)
        #expect(object["uses_external_data"] as? Bool == true)

        let corrupt = dir.appendingPathComponent("bad.onnx")
        try Data([0xff, 0xff, 0xff]).write(to: corrupt)
        let bad = try DetrProcess.run(["inspect", corrupt.path])
        #expect(bad.status == 1)
        #expect(bad.stderr.hasPrefix("detr: error: \(corrupt.path): is not an ONNX model"))
        #expect(bad.stderr.split(separator: "\n").count == 1)
    }
}
