import Foundation

/// How `detr` writes JSON: every record is an `Encodable` value written by one encoder
/// configuration. Keys are sorted, so the same values always give the same text (diffable
/// output); slashes stay unescaped; numbers that are not finite are written as null (JSON has
/// no NaN or infinity). Records whose Swift property names are camelCase versions of their
/// JSON keys (`batchSize` for `batch_size`) are written with `snakeCaseKeys`.
enum JSONOutput {
    static func encode<T: Encodable>(_ value: T, snakeCaseKeys: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if snakeCaseKeys { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// A floating-point number written as itself when finite and as null otherwise.
struct FiniteOrNull<Value: BinaryFloatingPoint & Encodable>: Encodable {
    var value: Value

    init(_ value: Value) { self.value = value }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if value.isFinite { try c.encode(value) } else { try c.encodeNil() }
    }
}

/// A coding key made at run time (records whose keys come from data, e.g. metric names).
struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
