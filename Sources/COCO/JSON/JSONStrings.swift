import Foundation

/// Escaping and unescaping of JSON string contents.
enum JSONStrings {
    /// Decodes the bytes between a string's quotes (escapes included) to a `String`.
    static func unescape(_ raw: UnsafeBufferPointer<UInt8>) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        func hex4() throws -> UInt32 {
            guard i + 4 <= raw.count else { throw JSONSyntaxError(message: "truncated \\u escape", line: 0, column: 0) }
            var value: UInt32 = 0
            for k in 0..<4 {
                let c = raw[i + k]
                let digit: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
                default: throw JSONSyntaxError(message: "invalid \\u escape", line: 0, column: 0)
                }
                value = value << 4 | UInt32(digit)
            }
            i += 4
            return value
        }
        while i < raw.count {
            let byte = raw[i]
            i += 1
            guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
            guard i < raw.count else { throw JSONSyntaxError(message: "truncated escape", line: 0, column: 0) }
            let code = raw[i]
            i += 1
            switch code {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(code)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= raw.count,
                    raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u")
                {
                    let save = i
                    i += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        i = save
                    }
                }
                let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"  // lone surrogates
                out.append(contentsOf: Array(String(character).utf8))
            default:
                throw JSONSyntaxError(
                    message: "invalid escape '\\\(Character(Unicode.Scalar(code)))'", line: 0, column: 0)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` as a quoted JSON string.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
