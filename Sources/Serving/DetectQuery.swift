import Detection
import Foundation
import Hummingbird
import HummingbirdCore

/// The query of POST /v1/detect: `threshold` (0...1), `top_k` (≥ 1), `draw` (1/true: answer the
/// annotated PNG), `name` (the record's `file`). Unknown keys, a key given twice and control
/// characters (NUL included) are refused with 400.
struct DetectQuery: Sendable {
    var options: DetectionOptions
    var draw: Bool
    var name: String?

    static let keys: Set<String> = ["threshold", "top_k", "draw", "name"]

    init(_ uri: URI, defaultThreshold: Float) throws {
        try self.init(Self.parameters(uri.query ?? ""), defaultThreshold: defaultThreshold)
    }

    /// The decoded key-value pairs of a raw (percent-encoded) query string.
    static func parameters(_ raw: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) throws -> String {
                let plus = text.replacingOccurrences(of: "+", with: " ")
                guard let value = plus.removingPercentEncoding else {
                    throw RequestError(.badRequest, "the query has invalid percent-encoding: '\(text.prefix(64))'")
                }
                guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                    throw RequestError(.badRequest, "the query has a control character (NUL?) in '\(text.prefix(64))'")
                }
                return value
            }
            let key = try decode(pair[0])
            let value = pair.count > 1 ? try decode(pair[1]) : ""
            guard keys.contains(key) else {
                throw RequestError(
                    .badRequest,
                    "unknown query parameter '\(key.prefix(64))' (known: \(keys.sorted().joined(separator: ", ")))")
            }
            guard result[key] == nil else {
                throw RequestError(.badRequest, "the query parameter '\(key)' is given more than once")
            }
            result[key] = value
        }
        return result
    }

    init(_ query: [String: String], defaultThreshold: Float) throws {
        var threshold = defaultThreshold
        if let text = query["threshold"] {
            guard let value = Float(text), value >= 0, value <= 1 else {
                throw RequestError(.badRequest, "threshold must be a number in [0, 1], not '\(text)'")
            }
            threshold = value
        }
        var topK: Int?
        if let text = query["top_k"] {
            guard let value = Int(text), value >= 1 else {
                throw RequestError(.badRequest, "top_k must be an integer of at least 1, not '\(text)'")
            }
            topK = value
        }
        options = DetectionOptions(threshold: threshold, topK: topK)
        switch query["draw"].map({ $0.lowercased() }) {
        case nil, "0", "false": draw = false
        case "1", "true": draw = true
        case let other?: throw RequestError(.badRequest, "draw must be 1 or 0, not '\(other)'")
        }
        name = query["name"]
    }
}
