import Foundation
import TestSupport
import Testing

/// Readers for the reference files of the COCO tests.
enum ReferenceFiles {
    /// `shared/fixtures/coco_eval` (throws, with a recorded failure, when the shared fixtures are absent).
    static func cocoEval(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        try TestSupport.fixtures("coco_eval", sourceLocation: sourceLocation)
    }

    /// Decodes a JSON file. (`JSONDecoder`, not `JSONSerialization`: on Linux the latter
    /// does not round every float to the nearest double, which breaks bitwise comparisons.)
    static func decode<T: Decodable>(_ type: T.Type, _ url: URL) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: url))
    }

    /// `shared/fixtures/coco_eval/expected.json` (the parts the tests read).
    struct Expected: Decodable {
        struct Setting: Decodable {
            let stats: [Double]
            let summaryText: String
            let perCategory: [String: Category]?
            enum CodingKeys: String, CodingKey {
                case stats, summaryText = "summary_text", perCategory = "per_category"
            }
        }
        struct Category: Decodable {
            let name: String
            let ap: Double, ap50: Double, ap75: Double, ar: Double
            enum CodingKeys: String, CodingKey {
                case name, ap = "ap_50_95", ap50 = "ap_50", ap75 = "ap_75", ar = "ar_50_95_maxdet100"
            }
        }
        let settings: [String: Setting]

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            var settings: [String: Setting] = [:]
            for key in ["default", "usecats0", "maxdets_1_5_20"] {
                settings[key] = try container.decode(Setting.self, forKey: AnyKey(stringValue: key))
            }
            self.settings = settings
        }
    }

    struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The float64 tensors of a safetensors file, flat in C order, with their shapes.
    /// (A direct reader, so these tests do not need libtorch.)
    static func float64Tensors(_ url: URL) throws -> [String: (shape: [Int], values: [Double])] {
        let data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + headerLength)) as! [String: Any]
        var tensors: [String: (shape: [Int], values: [Double])] = [:]
        for (name, entry) in header where name != "__metadata__" {
            let info = entry as! [String: Any]
            guard info["dtype"] as? String == "F64" else { continue }
            let shape = (info["shape"] as! [NSNumber]).map(\.intValue)
            let offsets = (info["data_offsets"] as! [NSNumber]).map(\.intValue)
            let bytes = data.subdata(in: 8 + headerLength + offsets[0]..<8 + headerLength + offsets[1])
            let values = bytes.withUnsafeBytes { raw in
                (0..<raw.count / 8).map {
                    Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))
                }
            }
            tensors[name] = (shape, values)
        }
        return tensors
    }

    /// max |a - b| (infinity when the lengths differ).
    static func maxAbsDiff(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}
