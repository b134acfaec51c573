import Foundation
import TestSupport
import Testing
import Torch

/// safetensors through `WeightFile`: a round trip of every dtype and malformed headers.
@Suite struct WeightFileSafetensorsTests {
    /// One small tensor of every dtype, with awkward values (negative, extreme, special).
    static func allDTypes() -> StateDict {
        var sd = StateDict()
        sd["f32"] = Tensor([1.5, -0.0, .infinity, -3.25e-20, .greatestFiniteMagnitude, 7] as [Float], shape: [2, 3])
        sd["f16"] = Tensor([0.5, -2, 65504, 1e-3] as [Float], shape: [4]).to(.float16)
        sd["bf16"] = Tensor([0.5, -2, 3e38, 1e-3] as [Float], shape: [2, 2]).to(.bfloat16)
        sd["f64"] = Tensor([Double.pi, -1e300, .leastNonzeroMagnitude] as [Double])
        sd["i64"] = Tensor([Int64.min, -1, Int64.max] as [Int64])
        sd["i32"] = Tensor([Int32.min, 0, Int32.max] as [Int32])
        sd["i16"] = Tensor([Int16.min, 0, Int16.max] as [Int16])
        sd["i8"] = Tensor([Int8.min, 0, Int8.max] as [Int8])
        sd["u8"] = Tensor([0, 128, 255] as [UInt8])
        sd["bool"] = Tensor([true, false, true, true] as [Bool], shape: [2, 2])
        sd["scalar"] = Tensor(scalar: Float(2.5))
        sd["empty"] = Tensor([Float](), shape: [0, 4])
        return sd
    }

    @Test func roundTripsEveryDType() throws {
        let sd = Self.allDTypes()
        #expect(Set(sd.map(\.value.dtype)) == Set(DType.allCases))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "roundtrip-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors.write(sd, metadata: ["format": "pt", "note": "round trip"], to: url)
        let loaded = try WeightFile.load(url)
        #expect(loaded.format == .safetensors)
        #expect(loaded.metadata == ["format": "pt", "note": "round trip"])
        #expect(loaded.root == nil)
        #expect(Set(loaded.tensors.keys) == Set(sd.keys))
        for (name, t) in sd {
            let u = try #require(loaded.tensors[name])
            #expect(u.dtype == t.dtype, "\(name)")
            #expect(u.shape == t.shape, "\(name)")
            #expect(u.bytes() == t.bytes(), "\(name)")
        }
    }

    /// An 8-byte little-endian length, then `header` (padded to at least 2 bytes), then `data`.
    static func file(header: String, data: [UInt8] = [], length: UInt64? = nil) -> Data {
        let h = Array(header.utf8)
        var out = Data()
        withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: h)
        out.append(contentsOf: data)
        return out
    }

    @Test(
        arguments: [
            (
                #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 8, UInt64(1000),
                "header length 1000 exceeds the file"
            ),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, 8, nil, "malformed safetensors JSON header"),
            (#"{"a":{"dtype":"C64","shape":[2],"data_offsets":[0,8]}}"#, 8, nil, "unsupported dtype C64"),
            (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8, nil, "has 8 data bytes but shape [3]"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, 8, nil, "data offsets outside the file"),
            (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, 8, nil, "invalid shape"),
            (#"{"a":{"dtype":"F32","shape":[1e30],"data_offsets":[0,8]}}"#, 8, nil, "invalid shape"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, 8, nil, "data bytes"),
            (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, 8, nil, "invalid shape"),
            (#"{"a":[1,2]}"#, 0, nil, "invalid header entry"),
            (#"{"__metadata__":{"k":1}}"#, 0, nil, "__metadata__ value for 'k' is not a string"),
        ] as [(String, Int, UInt64?, String)])
    func refusesMalformedHeader(_ header: String, _ dataBytes: Int, _ length: UInt64?, _ problem: String) throws {
        let data = Self.file(header: header, data: [UInt8](repeating: 0, count: dataBytes), length: length)
        let error = try #require(throws: FileError.self) { try WeightFile.load(data: data, name: "m.safetensors") }
        #expect(error.file == "m.safetensors")
        #expect(error.problem.contains(problem), "\(error)")
    }
}
