import Diagnostics

/// A problem with a COCO annotation file, results file or evaluation request.
///
/// `description` is one line that names the file and the offending entry, e.g.
/// `gt.json: annotation 17 (index 16) refers to unknown image_id 99`.
public typealias COCOError = KindedError<COCOErrorKind>

/// What went wrong in a `COCOError`.
public enum COCOErrorKind: String, Sendable, Equatable {
    case unreadableFile, malformedJSON, missingField, invalidValue, unknownReference
    case duplicateId, invalidParameters, writeFailed
}

/// Informational findings of a load that pycocotools tolerates: the entries are kept or
/// skipped exactly as pycocotools would treat them, and counted here so tools can report them.
public struct COCOLoadReport: Sendable, Equatable {
    /// Entries that were skipped, e.g. results whose `category_id` is not in the dataset
    /// (pycocotools never selects them).
    public var skipped = 0
    /// Repeated image or category ids (pycocotools keeps one entry per id).
    public var duplicates = 0
    /// Boxes with zero width or height: kept (pycocotools evaluates them; they never match).
    public var degenerateBoxes = 0
    /// One line per kind of finding, naming the first offending entry.
    public var notes: [String] = []

    public init() {}

    /// True when nothing was skipped, merged or flagged.
    public var isClean: Bool { skipped == 0 && duplicates == 0 && degenerateBoxes == 0 }
}
