/// Numbered children of one type (`nn.ModuleList`): element `i` lives at `path / i`,
/// so its keys are `layers.<i>.<name>`.
///
/// ```swift
/// layers = ModuleList(p / "layers", count: 6) { q, i in EncoderLayer(q, config) }
/// for layer in layers { x = layer(x) }
/// ```
public struct ModuleList<Element: Module>: Module, RandomAccessCollection {
    public let path: ModulePath
    public let elements: [Element]

    /// Builds `count` children, calling `make` with each child's path and index in order.
    public init(_ path: ModulePath, count: Int, _ make: (ModulePath, Int) throws -> Element) rethrows {
        self.path = path
        elements = try (0..<count).map { try make(path / $0, $0) }
    }

    public var startIndex: Int { elements.startIndex }
    public var endIndex: Int { elements.endIndex }
    public subscript(position: Int) -> Element { elements[position] }
}
