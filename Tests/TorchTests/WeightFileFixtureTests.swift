import Foundation
import TestSupport
import Testing
import Torch

/// The committed `.pth` files of `Tests/Fixtures/weights` (written by its generate.py with
/// torch 1.13) and what they must load as (`expected.json`).
enum WeightFixtures {
    struct ExpectedFile: Decodable {
        var format: String
        var state_dict_key: String?
        var tensors: [ExpectedTensor]
        var other: [ExpectedEntry]
    }
    struct ExpectedTensor: Decodable {
        var name: String
        var dtype: String
        var shape: [Int]
        var values: [Double]
        var sha256: String
    }
    struct ExpectedEntry: Decodable {
        var key: String
        var summary: String
    }

    static func url(_ name: String) -> URL { TestSupport.localFixture("weights/\(name)") }

    static func expected() throws -> [String: ExpectedFile] {
        try JSONDecoder().decode([String: ExpectedFile].self, from: Data(contentsOf: url("expected.json")))
    }

    static func sha256(_ t: Tensor) -> String {
        t.bytes().withUnsafeBytes { Torch.sha256($0) }.map { String(format: "%02x", $0) }.joined()
    }

    /// Names, dtypes, shapes and bytes of two state dicts are identical.
    static func identical(_ a: StateDict, _ b: StateDict) -> Bool {
        guard a.keys == b.keys else { return false }
        for (key, t) in a {
            guard let u = b[key], t.dtype == u.dtype, t.shape == u.shape, t.bytes() == u.bytes() else { return false }
        }
        return true
    }

    /// A stored record of a small archive: its data range and where the central directory keeps its CRC-32.
    struct Record {
        var name: String
        var start: Int
        var count: Int
        var crcOffset: Int
    }

    /// The records of a small archive (no ZIP64 fields, no comment), found through its central directory.
    static func records(_ bytes: [UInt8]) -> [Record] {
        func le(_ at: Int, _ width: Int) -> Int { (0..<width).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let end = bytes.count - 22
        var i = le(end + 16, 4)
        var out: [Record] = []
        for _ in 0..<le(end + 10, 2) {
            let size = le(i + 24, 4), nameLength = le(i + 28, 2), local = le(i + 42, 4)
            let name = String(decoding: bytes[(i + 46)..<(i + 46 + nameLength)], as: UTF8.self)
            let start = local + 30 + le(local + 26, 2) + le(local + 28, 2)
            out.append(Record(name: name, start: start, count: size, crcOffset: i + 16))
            i += 46 + nameLength + le(i + 30, 2) + le(i + 32, 2)
        }
        return out
    }

    /// The storage records (`<folder>/data/<key>`).
    static func dataRecords(_ bytes: [UInt8]) -> [Record] {
        records(bytes).filter { $0.name.contains("/data/") }
    }

    /// Rewrites the central-directory CRC-32 of `record` to match its (modified) data.
    static func fixCRC(_ bytes: inout [UInt8], _ record: Record) {
        let crc = bytes[record.start..<(record.start + record.count)].withUnsafeBytes { Torch.crc32($0) }
        for k in 0..<4 { bytes[record.crcOffset + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
    }
}

@Suite struct WeightFileFixtureTests {
    @Test(arguments: [
        "tensors_zip.pth", "tensors_legacy.pth", "tensors_zip64.pth", "checkpoint_zip.pth", "checkpoint_legacy.pth",
    ])
    func loadsGeneratedFile(_ name: String) throws {
        let expected = try #require(try WeightFixtures.expected()[name])
        let loaded = try WeightFile.load(WeightFixtures.url(name))
        #expect(loaded.format.rawValue == expected.format)
        #expect(loaded.stateDictKey == expected.state_dict_key)
        #expect(loaded.tensors.keys == expected.tensors.map(\.name))
        for e in expected.tensors {
            let t = try #require(loaded.tensors[e.name], "\(e.name) missing")
            #expect(t.dtype.description == e.dtype, "\(e.name)")
            #expect(t.shape == e.shape, "\(e.name)")
            #expect(t.isContiguous, "\(e.name)")
            #expect(t.toArray(Double.self) == e.values, "\(e.name)")
            #expect(WeightFixtures.sha256(t) == e.sha256, "\(e.name)")
        }
        #expect(loaded.otherEntries.map(\.key) == expected.other.map(\.key))
        #expect(loaded.otherEntries.map(\.summary) == expected.other.map(\.summary))
    }

    @Test func checkpointTreeKeepsOpaqueObjects() throws {
        let loaded = try WeightFile.load(WeightFixtures.url("checkpoint_zip.pth"))
        let root = try #require(loaded.root)
        guard case .object(let args)? = root["args"] else {
            Issue.record("args is not an opaque object: \(String(describing: root["args"]))")
            return
        }
        #expect(args.className == "argparse.Namespace")
        #expect(root["args"]?["lr"]?.double == 0.0001)
        #expect(root["args"]?["backbone"]?.string == "resnet50")
        #expect(root["args"]?["milestones"]?.elements?.compactMap(\.int) == [10, 20])
        #expect(root["args"]?["frozen_weights"]?.isNone == true)
        #expect(root["epoch"]?.int == 12)
        // The state dict's _metadata attribute is kept in the tree but is not a tensor.
        guard case .dict(let model)? = root["model"] else { Issue.record("model is not a dict"); return }
        #expect(model.isOrdered)
        #expect(model.attributes?["_metadata"] != nil)
        // Optimizer state holds tensors too (exp_avg of each parameter).
        let state = try #require(root["optimizer"]?["state"]?.dictEntries)
        #expect(state.count == 4)
        #expect(state.first?.value["exp_avg"]?.tensor?.shape == [3, 4])
    }

    @Test func tiedStoragesShareValues() throws {
        for name in ["tensors_zip.pth", "tensors_legacy.pth"] {
            let t = try WeightFile.load(WeightFixtures.url(name)).tensors
            let base = try #require(t["base"]).floats
            #expect(try #require(t["tied"]).floats == base)
            #expect(try #require(t["row"]).floats == Array(base[12..<18]))
            #expect(try #require(t["view_t"]).shape == [6, 4])
            #expect(try #require(t["view_offset"]).floats == [6, 8, 10, 12, 14, 16, 18, 20, 22].map { base[$0] })
            #expect(try #require(t["expanded"]).floats == [0, 1, 2, 0, 1, 2])
        }
    }

    @Test(arguments: [
        ("bad_view_past_end_zip.pth", "reads element 4 of a storage of 4 elements"),
        ("bad_view_past_end_legacy.pth", "reads element 4 of a storage of 4 elements"),
        ("bad_view_negative_stride_zip.pth", "negative stride"),
        ("bad_view_negative_stride_legacy.pth", "negative stride"),
        ("bad_view_overflow_zip.pth", "overflows"),
        ("bad_view_overflow_legacy.pth", "overflows"),
        ("bad_view_huge_expand_zip.pth", "repeats its storage of 4 elements beyond 1024 MiB"),
        ("bad_view_huge_expand_legacy.pth", "repeats its storage of 4 elements beyond 1024 MiB"),
        ("bad_compressed_zip.pth", "is compressed (method 8)"),
        ("bad_bigendian_zip.pth", "big-endian"),
    ])
    func refusesDamagedFile(_ name: String, _ problem: String) throws {
        let url = WeightFixtures.url(name)
        let error = try #require(throws: FileError.self) { try WeightFile.load(url) }
        #expect(error.file == url.path)
        #expect(error.problem.contains(problem), "\(error)")
    }

    @Test func everyFlippedDataByteIsACRCError() throws {
        let original = try [UInt8](Data(contentsOf: WeightFixtures.url("tensors_zip.pth")))
        let records = WeightFixtures.dataRecords(original)
        #expect(records.count == 16)
        var checked = 0
        for record in records {
            for i in record.start..<(record.start + record.count) {
                var bytes = original
                bytes[i] ^= 0x10
                let error = try #require(throws: FileError.self) {
                    try WeightFile.load(data: Data(bytes), name: "x.pth")
                }
                #expect(error.problem.hasPrefix("CRC-32 mismatch in record \(record.name) "), "\(error)")
                checked += 1
            }
        }
        #expect(checked > 250)
    }

    @Test func reportsUnusableFiles() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/model.pth")
        #expect(throws: FileError(file: missing.path, problem: "does not exist")) { try WeightFile.load(missing) }
        #expect(throws: FileError(file: "e", problem: "is empty")) { try WeightFile.load(data: Data(), name: "e") }
        #expect(throws: FileError(file: "t", problem: "not a PyTorch or safetensors file")) {
            try WeightFile.load(data: Data("hello, world".utf8), name: "t")
        }
        let zip = try Data(contentsOf: WeightFixtures.url("tensors_zip.pth"))
        let error = try #require(throws: FileError.self) {
            try WeightFile.load(data: zip.prefix(zip.count / 2), name: "z")
        }
        #expect(error.problem.hasPrefix("truncated zip archive"), "\(error)")
        // A pickle that is not torch's legacy format.
        let plain = try #require(throws: FileError.self) {
            try WeightFile.load(data: Data([0x80, 0x02, 0x4B, 0x07, 0x2E]), name: "p")
        }
        #expect(plain.problem.contains("magic number"), "\(plain)")
    }

    @Test func detectsFormatFromContent() throws {
        #expect(WeightFile.format(of: try Data(contentsOf: WeightFixtures.url("tensors_zip.pth"))) == .pytorchZip)
        #expect(WeightFile.format(of: try Data(contentsOf: WeightFixtures.url("tensors_legacy.pth"))) == .pytorchLegacy)
        let st = try Safetensors.serialize(StateDict([("a", Tensor([1, 2] as [Float]))]))
        #expect(WeightFile.format(of: st) == .safetensors)
        #expect(WeightFile.format(of: Data("not weights".utf8)) == nil)
    }
}
