/// Accumulates the digits of a JSON number and converts them to a correctly rounded
/// `Double`.
///
/// Most numbers in COCO files have at most 15 significant digits and a small decimal
/// exponent; for those, one exact integer and one exact power of ten give the correctly
/// rounded result with a single multiplication or division (Clinger's fast path). Longer
/// numbers fall back to the standard library's locale-independent, correctly rounded
/// parser. Either way the value equals Python's `float(text)`.
struct JSONNumberParser {
    var negative = false
    var isInteger = true
    /// Decimal exponent applied to `mantissa`.
    var exponent = 0
    private var mantissa: UInt64 = 0
    private var significantDigits = 0
    private var truncated = false

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }  // exact up to 1e22
        return value
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// A digit before the decimal point.
    mutating func addDigit(_ digit: UInt8) {
        if mantissa == 0 && digit == 0 { return }
        if significantDigits < 19 {
            mantissa = mantissa * 10 + UInt64(digit)
            significantDigits += 1
        } else {
            truncated = true
            exponent += 1
        }
    }

    /// A digit after the decimal point.
    mutating func addFractionDigit(_ digit: UInt8) {
        if mantissa == 0 && digit == 0 { exponent -= 1; return }
        if significantDigits < 19 {
            mantissa = mantissa * 10 + UInt64(digit)
            significantDigits += 1
            exponent -= 1
        } else {
            truncated = true
        }
    }

    /// The value; `text` is the whole number's source, used by the slow path.
    func finish(text: UnsafeBufferPointer<UInt8>) -> JSONNumber {
        let exact: Int? = {
            guard isInteger, !truncated, exponent == 0 else { return nil }
            if negative { return mantissa <= UInt64(Int.max) ? -Int(mantissa) : nil }
            return mantissa <= UInt64(Int.max) ? Int(mantissa) : nil
        }()
        var value: Double
        if mantissa == 0 {
            value = 0
        } else if !truncated, mantissa <= 1 << 53, abs(exponent) <= 22 {
            value = Double(mantissa)
            value = exponent < 0 ? value / Self.powersOfTen[-exponent] : value * Self.powersOfTen[exponent]
        } else {
            let string = String(decoding: text, as: UTF8.self)
            return JSONNumber(value: Double(string) ?? .nan, exactInteger: exact)
        }
        return JSONNumber(value: negative ? -value : value, exactInteger: exact)
    }
}

/// A parsed number: its nearest `Double`, and the exact integer when it was written as one.
struct JSONNumber {
    let value: Double
    let exactInteger: Int?
}
