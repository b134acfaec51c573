import Foundation

/// A pull parser over UTF-8 JSON bytes.
///
/// The COCO loaders read annotation and result files (tens of megabytes, millions of
/// values) field by field with it instead of building a `JSONSerialization` tree, which
/// is about 20× faster and lets errors point at a line and column. It accepts exactly
/// RFC 8259 JSON (what Python's `json` accepts minus `NaN`/`Infinity`), with an optional
/// UTF-8 byte-order mark.
///
/// Numbers are converted to the nearest `Double` (correctly rounded, like Python's
/// `float()`), so boxes and scores are bit-identical to what pycocotools sees.
struct JSONCursor {
    private let bytes: UnsafeBufferPointer<UInt8>
    private(set) var position: Int
    private var depth = 0
    private static let maxDepth = 512

    /// - Parameter bytes: must stay valid while the cursor is used.
    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        position = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
    }

    // MARK: - Structure

    /// The kind of the next value, after skipping whitespace.
    mutating func peekKind() throws -> JSONKind {
        skipWhitespace()
        guard position < bytes.count else { throw failure("unexpected end of data, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw failure("unexpected character \(describe(bytes[position])), expected a value")
        }
    }

    /// Consumes `{` and calls `body` with each member's key; `body` must consume the value.
    mutating func forEachMember(_ body: (inout JSONCursor, JSONKey) throws -> Void) throws {
        try open(UInt8(ascii: "{"), "an object")
        defer { depth -= 1 }
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw failure("expected a string key")
            }
            let key = try scanString()
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw failure("expected ':' after an object key") }
            try body(&self, key)
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "}")) { return }
            throw failure("expected ',' or '}' in an object")
        }
    }

    /// Consumes `[` and calls `body` with each element's index; `body` must consume the element.
    mutating func forEachElement(_ body: (inout JSONCursor, Int) throws -> Void) throws {
        try open(UInt8(ascii: "["), "an array")
        defer { depth -= 1 }
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return }
        var index = 0
        while true {
            try body(&self, index)
            index += 1
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "]")) { return }
            throw failure("expected ',' or ']' in an array")
        }
    }

    /// Requires that only whitespace follows the top-level value.
    mutating func finish() throws {
        skipWhitespace()
        if position < bytes.count { throw failure("extra data after the top-level value") }
    }

    /// Consumes and validates any value.
    mutating func skipValue() throws {
        switch try peekKind() {
        case .object: try forEachMember { cursor, _ in try cursor.skipValue() }
        case .array: try forEachElement { cursor, _ in try cursor.skipValue() }
        case .string: _ = try scanString()
        case .number: _ = try scanNumber()
        case .bool: _ = try readBool()
        case .null: try literal("null")
        }
    }

    // MARK: - Scalars

    /// Reads a number as the nearest `Double`.
    mutating func readDouble() throws -> Double {
        guard try peekKind() == .number else { throw failure("expected a number", typeMismatch: true) }
        return try scanNumber().value
    }

    /// Reads an integer (an integral number such as `17` or `17.0`) that fits in `Int`.
    mutating func readInt() throws -> Int {
        guard try peekKind() == .number else { throw failure("expected an integer", typeMismatch: true) }
        let start = position
        let number = try scanNumber()
        if let exact = number.exactInteger { return exact }
        guard number.value.rounded(.towardZero) == number.value, abs(number.value) < 9.2e18 else {
            position = start
            throw failure("expected an integer, found \(number.value)", typeMismatch: true)
        }
        return Int(number.value)
    }

    /// Reads `true` or `false`.
    mutating func readBool() throws -> Bool {
        guard try peekKind() == .bool else { throw failure("expected true or false", typeMismatch: true) }
        if position < bytes.count, bytes[position] == UInt8(ascii: "t") { try literal("true"); return true }
        try literal("false")
        return false
    }

    /// Reads a string value.
    mutating func readString() throws -> String {
        guard try peekKind() == .string else { throw failure("expected a string", typeMismatch: true) }
        return try decode(scanString())
    }

    /// The text of a key (keys are compared with `JSONKey ==` without decoding).
    func decode(_ key: JSONKey) throws -> String {
        if !key.hasEscapes {
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[key.range]), as: UTF8.self)
        }
        do {
            return try JSONStrings.unescape(UnsafeBufferPointer(rebasing: bytes[key.range]))
        } catch let error as JSONSyntaxError {
            throw failure(error.message)
        }
    }

    /// Whether the raw key bytes equal `literal` (keys with escapes never match; COCO keys have none).
    func key(_ key: JSONKey, is literal: StaticString) -> Bool {
        guard !key.hasEscapes, key.range.count == literal.utf8CodeUnitCount else { return false }
        return memcmp(bytes.baseAddress! + key.range.lowerBound, literal.utf8Start, key.range.count) == 0
    }

    /// An error at the current position (line and column are 1-based).
    func failure(_ message: String, typeMismatch: Bool = false) -> JSONSyntaxError {
        var line = 1, column = 1
        for i in 0..<min(position, bytes.count) {
            if bytes[i] == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return JSONSyntaxError(message: message, line: line, column: column, isTypeMismatch: typeMismatch)
    }

    // MARK: - Scanning

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        if position < bytes.count, bytes[position] == byte { position += 1; return true }
        return false
    }

    private mutating func open(_ byte: UInt8, _ what: String) throws {
        skipWhitespace()
        guard consume(byte) else {
            let wellFormed = (try? peekKind()) != nil
            throw failure("expected \(what)", typeMismatch: wellFormed)
        }
        depth += 1
        if depth > Self.maxDepth { throw failure("nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func literal(_ text: StaticString) throws {
        skipWhitespace()
        let n = text.utf8CodeUnitCount
        guard position + n <= bytes.count,
            memcmp(bytes.baseAddress! + position, text.utf8Start, n) == 0
        else {
            throw failure("invalid literal, expected '\(text)'")
        }
        position += n
    }

    /// Scans a string starting at `"`, returning the raw byte range between the quotes.
    private mutating func scanString() throws -> JSONKey {
        position += 1
        let start = position
        var escapes = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                defer { position += 1 }
                return JSONKey(range: start..<position, hasEscapes: escapes)
            }
            if byte < 0x20 { throw failure("control character in a string") }
            if byte == UInt8(ascii: "\\") { escapes = true; position += 1 }
            position += 1
        }
        throw failure("unterminated string")
    }

    /// Scans a number per the JSON grammar and converts it.
    private mutating func scanNumber() throws -> JSONNumber {
        let start = position
        var parser = JSONNumberParser()
        if consume(UInt8(ascii: "-")) { parser.negative = true }
        guard position < bytes.count, JSONNumberParser.isDigit(bytes[position]) else {
            throw failure("invalid number")
        }
        if bytes[position] == UInt8(ascii: "0") {
            parser.addDigit(0); position += 1
        } else {
            while position < bytes.count, JSONNumberParser.isDigit(bytes[position]) {
                parser.addDigit(bytes[position] - UInt8(ascii: "0")); position += 1
            }
        }
        if consume(UInt8(ascii: ".")) {
            parser.isInteger = false
            guard position < bytes.count, JSONNumberParser.isDigit(bytes[position]) else {
                throw failure("invalid number: digit expected after '.'")
            }
            while position < bytes.count, JSONNumberParser.isDigit(bytes[position]) {
                parser.addFractionDigit(bytes[position] - UInt8(ascii: "0")); position += 1
            }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            parser.isInteger = false
            var negativeExponent = false
            if consume(UInt8(ascii: "-")) { negativeExponent = true } else { _ = consume(UInt8(ascii: "+")) }
            guard position < bytes.count, JSONNumberParser.isDigit(bytes[position]) else {
                throw failure("invalid number: digit expected in the exponent")
            }
            var exponent = 0
            while position < bytes.count, JSONNumberParser.isDigit(bytes[position]) {
                exponent = min(exponent * 10 + Int(bytes[position] - UInt8(ascii: "0")), 100_000); position += 1
            }
            parser.exponent += negativeExponent ? -exponent : exponent
        }
        let number = parser.finish(text: UnsafeBufferPointer(rebasing: bytes[start..<position]))
        guard number.value.isFinite else {
            position = start
            throw failure("number out of range")
        }
        return number
    }

    private func describe(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : String(format: "0x%02X", byte)
    }
}

/// The kind of a JSON value.
enum JSONKind: Equatable { case object, array, string, number, bool, null }

/// A string's raw bytes (between the quotes) inside the parsed buffer.
struct JSONKey {
    let range: Range<Int>
    let hasEscapes: Bool
}

/// A syntax error with its 1-based position.
struct JSONSyntaxError: Error {
    let message: String
    let line: Int
    let column: Int
    /// Well-formed JSON of the wrong type (e.g. a string where a number was expected).
    var isTypeMismatch = false
}
