import Diagnostics
import Foundation

/// How swift-detr writes JSON: every record is an `Encodable` value written by one encoder
/// configuration. Keys are sorted, so the same values always give the same text (diffable
/// output); slashes stay unescaped; numbers that are not finite are written as null (JSON has
/// no NaN or infinity). Records whose Swift property names are camelCase versions of their
/// JSON keys (`batchSize` for `batch_size`) are written with `snakeCaseKeys`.
public enum JSONOutput {
    /// The value as JSON text.
    public static func encode<T: Encodable>(_ value: T, snakeCaseKeys: Bool = false) throws -> String {
        String(decoding: try data(value, snakeCaseKeys: snakeCaseKeys), as: UTF8.self)
    }

    /// The value as UTF-8 JSON bytes.
    public static func data<T: Encodable>(_ value: T, snakeCaseKeys: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if snakeCaseKeys { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return try encoder.encode(value)
    }
}

/// A floating-point number written as itself when finite and as null otherwise.
public struct FiniteOrNull<Value: BinaryFloatingPoint & Encodable & Sendable>: Encodable, Sendable {
    public var value: Value

    public init(_ value: Value) { self.value = value }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if value.isFinite { try c.encode(value) } else { try c.encodeNil() }
    }
}
