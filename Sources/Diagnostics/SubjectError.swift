/// The one shape of swift-detr's errors: what the error concerns (a file path, a request, a
/// config source; nil when nothing is named) and the problem, read as "<subject>: <problem>".
/// Every module's error conforms, so a tool renders any of them the same way (`description`).
public protocol SubjectError: Error, CustomStringConvertible {
    /// The file or request concerned, as the caller named it; nil when there is none.
    var subject: String? { get }
    /// What is wrong, without the subject.
    var problem: String { get }
}

extension SubjectError {
    public var description: String { subject.map { "\($0): \(problem)" } ?? problem }
}

/// A file that cannot be read, parsed or written: a weight file, an image, a config or JSON
/// file written atomically.
public struct FileError: SubjectError, Equatable, Sendable {
    public var file: String
    public var problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var subject: String? { file }
}

/// A problem of a module-specific `Kind` (for callers that branch on it) concerning a file, or
/// nothing (`file` nil): `COCOError` for annotation and results files, `TrainingDataError` for
/// training images and data settings.
public struct KindedError<Kind: Hashable & Sendable>: SubjectError, Equatable, Sendable {
    public let kind: Kind
    /// The file as the caller named it; nil when the problem concerns no file.
    public let file: String?
    /// The problem, without the file prefix.
    public let problem: String

    public init(_ kind: Kind, file: String?, _ problem: String) {
        self.kind = kind
        self.file = file
        self.problem = problem
    }

    public var subject: String? { file }
}
