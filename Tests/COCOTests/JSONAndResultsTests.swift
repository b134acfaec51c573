import COCO
import Foundation
import Testing

/// Number and string conversion of the JSON reader (through the public loaders), and
/// results files written and read back.
@Suite struct JSONAndResultsTests {
    /// The score of a one-detection results file whose score is written as `text`.
    static func score(_ text: String) throws -> Double {
        let json = #"[{"image_id":1,"category_id":1,"bbox":[0,0,1,1],"score":"# + text + "}]"
        return try COCOResults(jsonData: Data(json.utf8), name: "dets.json").detections[0].score
    }

    static func imageId(_ text: String) throws -> Int {
        let json = #"[{"image_id":"# + text + #","category_id":1,"bbox":[0,0,1,1],"score":1}]"#
        return try COCOResults(jsonData: Data(json.utf8), name: "dets.json").detections[0].imageId
    }

    @Test func numbersRoundLikePythonFloat() throws {
        // Correct rounding on both the fast path and the long-number fallback.
        let texts = [
            "0", "-0", "1", "17.0", "0.1", "0.30000000000000004", "123456.789", "1e-7", "2.5E+3",
            "9007199254740993", "0.8999999999999999", "1.7976931348623157e308", "4.9e-324",
            "3.141592653589793238462643383279", "0.000001234567890123456789", "-12.75",
        ]
        for text in texts {
            #expect(try Self.score(text) == Double(text)!, "\(text)")
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let value = Double.random(in: -1e6...1e6, using: &generator)
            for text in [
                "\(value)", String(format: "%.3f", value), String(format: "%.17g", value),
                String(format: "%.6e", value),
            ] {
                #expect(try Self.score(text) == Double(text)!, "\(text)")
            }
        }
        #expect(try Self.imageId("42") == 42)
        #expect(try Self.imageId("-7.0") == -7)
        #expect(try Self.imageId("9223372036854775807") == Int.max)
        #expect(throws: COCOError.self) { try Self.imageId("1.5") }
        #expect(throws: COCOError.self) { try Self.imageId("99999999999999999999") }
        for bad in ["01", "1.", ".5", "+1", "1e", "--1", "0x10", "Infinity", "NaN"] {
            #expect(throws: COCOError.self, "\(bad)") { try Self.score(bad) }
        }
    }

    @Test func stringsAndStructure() throws {
        let name = #""caf\u00e9 \ud83d\ude97 \"q\" \\ \/ \n""#
        let text =
            #"{"info":{"a":[1,2,{"b":null}],"c":[true,false,-1e3,""]},"images":[],"annotations":[],"#
            + #""categories":[{"id":1,"name":"# + name + #","supercategory":null}]}"#
        let dataset = try COCODataset(jsonData: Data(("\u{FEFF}" + text).utf8), name: "gt.json")
        #expect(dataset.categories.first?.name == "café 🚗 \"q\" \\ / \n")
        #expect(throws: COCOError.self) {
            try COCODataset(jsonData: Data("{\"images\":[{\"id\":1,\"file_name\":\"a\u{01}\"}]}".utf8), name: "gt.json")
        }
        #expect(throws: COCOError.self) {
            try COCODataset(jsonData: Data(#"{"images":[{"id":1,"file_name":"\x"}]}"#.utf8), name: "gt.json")
        }
    }

    @Test func writtenResultsReadBackIdentically() throws {
        let detections = [
            COCODetection(
                imageId: 1, categoryId: 3, box: COCOBox(x: 0.1, y: 2, width: 3.25, height: 1e-5),
                score: 0.8999999999999999),
            COCODetection(imageId: 42, categoryId: 90, box: COCOBox(x0: 1, y0: 2, x1: 11, y1: 22), score: 1),
        ]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coco-results-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try COCOResults(detections: detections).write(to: url)
        let back = try COCOResults(contentsOf: url)
        #expect(back.detections == detections)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[String: Any]]
        #expect(Set(json[0].keys) == ["image_id", "category_id", "bbox", "score"])
        #expect(throws: COCOError.self) {
            try COCOResults(detections: [
                COCODetection(
                    imageId: 1, categoryId: 1, box: COCOBox(x: 0, y: 0, width: 1, height: 1),
                    score: .nan)
            ]).jsonData()
        }
    }
}
