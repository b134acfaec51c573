import Foundation

/// One detection in a COCO results file: `{"image_id", "category_id", "bbox": [x,y,w,h], "score"}`.
public struct COCODetection: Sendable, Equatable {
    public var imageId: Int
    public var categoryId: Int
    public var box: COCOBox
    public var score: Double

    public init(imageId: Int, categoryId: Int, box: COCOBox, score: Double) {
        self.imageId = imageId
        self.categoryId = categoryId
        self.box = box
        self.score = score
    }
}

/// A COCO results file: reading (validated against a dataset) and writing.
///
/// As in pycocotools' `loadRes`, a result's area is `w * h` of its box and it is never a
/// crowd. A result whose `image_id` is not in the dataset is an error (pycocotools refuses
/// the file); one whose `category_id` is not in the dataset is skipped and counted in
/// `report` (pycocotools never selects it). Negative box sizes and non-finite values are
/// errors; zero-size boxes are kept and counted.
public struct COCOResults: Sendable {
    /// The detections in file order (skipped entries removed).
    public var detections: [COCODetection]
    /// What the load tolerated.
    public var report = COCOLoadReport()

    public init(detections: [COCODetection]) {
        self.detections = detections
    }

    /// Loads a results file; with `dataset`, checks image and category ids against it.
    public init(contentsOf url: URL, displayName: String? = nil, dataset: COCODataset? = nil) throws {
        let name = displayName ?? url.relativePath
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw COCOError(.unreadableFile, file: name, "cannot read the file (\(COCODataset.reason(error)))")
        }
        try self.init(jsonData: data, name: name, dataset: dataset)
    }

    /// Parses the JSON text of a results file; `name` labels errors.
    public init(jsonData: Data, name: String, dataset: COCODataset? = nil) throws {
        let parsed = try jsonData.withUnsafeBytes { raw in
            try JSONCursor.parse(raw.bindMemory(to: UInt8.self), file: name) { cursor in
                try Self.parseArray(&cursor, file: name)
            }
        }
        detections = []
        try validate(parsed, file: name, dataset: dataset)
    }

    private static func parseArray(_ cursor: inout JSONCursor, file: String) throws -> [COCODetection] {
        guard try cursor.peekKind() == .array else {
            let hint = try cursor.peekKind() == .object ? " (found an object: is this an annotation file?)" : ""
            throw COCOError(
                .invalidValue, file: file,
                "expected a JSON array of {image_id, category_id, bbox, score} results\(hint)")
        }
        var detections: [COCODetection] = []
        try cursor.forEachElement { cursor, index in
            detections.append(try readDetection(&cursor, index, file: file))
        }
        return detections
    }

    private static func readDetection(_ cursor: inout JSONCursor, _ index: Int, file: String) throws -> COCODetection {
        // pycocotools numbers results 1, 2, ... in file order.
        let context = EntryContext(file: file, kind: "detection", index: index, id: index + 1)
        guard try cursor.peekKind() == .object else { throw context.invalid("is not a JSON object") }
        var imageId: Int?, categoryId: Int?, box: COCOBox?, score: Double?
        try cursor.forEachMember { cursor, key in
            if cursor.key(key, is: "image_id") {
                imageId = try context.field("image_id") { try cursor.readInt() }
            } else if cursor.key(key, is: "category_id") {
                categoryId = try context.field("category_id") { try cursor.readInt() }
            } else if cursor.key(key, is: "bbox") {
                box = try context.field("bbox") { try cursor.readBox() }
            } else if cursor.key(key, is: "score") {
                score = try context.field("score") { try cursor.readDouble() }
            } else {
                try cursor.skipValue()
            }
        }
        guard let imageId else { throw context.missing("image_id") }
        guard let categoryId else { throw context.missing("category_id") }
        guard let box else { throw context.missing("bbox") }
        guard let score else { throw context.missing("score") }
        return COCODetection(imageId: imageId, categoryId: categoryId, box: box, score: score)
    }

    private mutating func validate(_ parsed: [COCODetection], file: String, dataset: COCODataset?) throws {
        let imageIds = dataset.map { Set($0.images.map(\.id)) }
        let categoryIds = dataset.map { Set($0.categories.map(\.id)) }
        var kept: [COCODetection] = []
        kept.reserveCapacity(parsed.count)
        var report = COCOLoadReport()
        for (index, detection) in parsed.enumerated() {
            let context = EntryContext(file: file, kind: "detection", index: index, id: index + 1)
            try COCODataset.check(detection.box, context)
            guard detection.score.isFinite else { throw context.invalid("has a non-finite score") }
            if let imageIds, !imageIds.contains(detection.imageId) {
                throw COCOError(
                    .unknownReference, file: file,
                    "\(context.label) refers to unknown image_id \(detection.imageId) (not in the annotations)")
            }
            if let categoryIds, !categoryIds.contains(detection.categoryId) {
                if report.skipped == 0 {
                    report.notes.append(
                        """
                        \(context.label) refers to category_id \(detection.categoryId), which the annotations do not \
                        define; such detections are skipped (pycocotools never evaluates them)
                        """
                    )
                }
                report.skipped += 1
                continue
            }
            if detection.box.isDegenerate {
                if report.degenerateBoxes == 0 {
                    report.notes.append(
                        "\(context.label) has a zero-size bbox; kept as pycocotools does (it can never match)")
                }
                report.degenerateBoxes += 1
            }
            kept.append(detection)
        }
        detections = kept
        self.report = report
    }

    // MARK: - Writing

    /// The results as compact JSON, one entry per detection in order (keys sorted: `bbox`,
    /// `category_id`, `image_id`, `score`).
    /// - Throws: `COCOError` when a box or score is not finite (JSON cannot hold it)
    public func jsonData() throws -> Data {
        for (index, detection) in detections.enumerated()
        where !(detection.box.array + [detection.score]).allSatisfy(\.isFinite) {
            throw COCOError(
                .invalidValue, file: nil, "detection at index \(index) has a non-finite value; results must be finite")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(detections.map(ResultEntry.init))
    }

    /// One entry of a results file as pycocotools reads it.
    private struct ResultEntry: Encodable {
        var imageId: Int
        var categoryId: Int
        var bbox: [Double]
        var score: Double

        init(_ d: COCODetection) {
            imageId = d.imageId
            categoryId = d.categoryId
            bbox = d.box.array
            score = d.score
        }

        enum CodingKeys: String, CodingKey {
            case imageId = "image_id", categoryId = "category_id", bbox, score
        }
    }

    /// Writes the results file atomically.
    public func write(to url: URL) throws {
        let data = try jsonData()
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw COCOError(
                .writeFailed, file: url.relativePath, "cannot write the results file (\(COCODataset.reason(error)))")
        }
    }
}
