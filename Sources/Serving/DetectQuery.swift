/// The query of POST /v1/detect: `threshold` (0...1), `top_k` (≥ 1), `draw` (1/true: answer the
/// annotated PNG), `name` (the record's `file`).
struct DetectQuery: Sendable {
    var options: DetectionOptions
    var draw: Bool
    var name: String?

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
