/// A JSON object key known only at run time (a config's keys, a report's per-class columns):
/// the one coding key of every encoder and decoder that names its keys itself.
public struct DynamicKey: CodingKey, ExpressibleByStringLiteral, Sendable {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ name: String) { stringValue = name }
    public init(stringLiteral name: String) { stringValue = name }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
