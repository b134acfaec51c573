/// Names one entry of a COCO file ("annotation 17 (index 16)") and turns low-level JSON
/// problems inside it into `COCOError`s that say which file, entry and field.
struct EntryContext {
    let file: String
    /// "image", "category", "annotation" or "detection".
    let kind: String
    let index: Int
    /// The entry's id once known (results have none; their pycocotools id is index + 1).
    var id: Int?

    /// `annotation 17 (index 16)`, or `annotation at index 16` before the id is known.
    var label: String { id.map { "\(kind) \($0) (index \(index))" } ?? "\(kind) at index \(index)" }

    /// Runs `body` (which reads the value of `field`), mapping JSON errors to `COCOError`.
    func field<T>(_ field: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as JSONSyntaxError {
            let position = "line \(error.line), column \(error.column)"
            if error.isTypeMismatch {
                throw COCOError(.invalidValue, file: file, "\(label): field '\(field)': \(error.message) (\(position))")
            }
            throw COCOError(
                .malformedJSON, file: file,
                "malformed JSON at \(position): \(error.message) (in \(label), field '\(field)')")
        }
    }

    func missing(_ field: String) -> COCOError {
        COCOError(.missingField, file: file, "\(label) is missing field '\(field)'")
    }

    func invalid(_ message: String) -> COCOError {
        COCOError(.invalidValue, file: file, "\(label) \(message)")
    }
}

extension JSONCursor {
    /// Reads `[x, y, width, height]` (exactly four numbers).
    mutating func readBox() throws -> COCOBox {
        var values = (0.0, 0.0, 0.0, 0.0)
        var count = 0
        let start = self
        try forEachElement { cursor, index in
            let value = try cursor.readDouble()
            switch index {
            case 0: values.0 = value
            case 1: values.1 = value
            case 2: values.2 = value
            case 3: values.3 = value
            default: break
            }
            count += 1
        }
        guard count == 4 else {
            throw start.failure("expected 4 numbers [x, y, width, height], found \(count)", typeMismatch: true)
        }
        return COCOBox(x: values.0, y: values.1, width: values.2, height: values.3)
    }

    /// Reads `iscrowd`: a boolean or an integer (non-zero means crowd, as in pycocotools).
    mutating func readCrowdFlag() throws -> Bool {
        if try peekKind() == .bool { return try readBool() }
        return try readInt() != 0
    }

    /// Parses a whole document, mapping syntax errors outside entries to `COCOError`.
    static func parse<T>(
        _ bytes: UnsafeBufferPointer<UInt8>, file: String,
        _ body: (inout JSONCursor) throws -> T
    ) throws -> T {
        var cursor = JSONCursor(bytes)
        do {
            let value = try body(&cursor)
            try cursor.finish()
            return value
        } catch let error as JSONSyntaxError {
            let position = "line \(error.line), column \(error.column)"
            throw COCOError(
                error.isTypeMismatch ? .invalidValue : .malformedJSON, file: file,
                error.isTypeMismatch
                    ? "\(error.message) (\(position))"
                    : "malformed JSON at \(position): \(error.message)")
        }
    }
}
