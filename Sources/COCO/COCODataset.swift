import Foundation

/// A COCO-format annotation file ("instances_val2017.json"): images, categories (ids
/// need not be contiguous) and box annotations.
///
/// Loading validates what pycocotools would trip over or silently mis-evaluate: missing
/// fields, annotations that point at unknown images or categories, repeated annotation
/// ids, negative boxes or areas. Each such problem is a `COCOError` naming the file and the
/// entry. What pycocotools tolerates (repeated image or category entries, zero-size
/// boxes) is kept as it would treat it and counted in `report`.
public struct COCODataset: Sendable {
    /// One `images` entry.
    public struct Image: Sendable, Equatable {
        public var id: Int
        public var width: Int?
        public var height: Int?
        public var fileName: String?

        public init(id: Int, width: Int? = nil, height: Int? = nil, fileName: String? = nil) {
            self.id = id
            self.width = width
            self.height = height
            self.fileName = fileName
        }
    }

    /// One `categories` entry.
    public struct Category: Sendable, Equatable {
        public var id: Int
        public var name: String
        public var supercategory: String?

        public init(id: Int, name: String, supercategory: String? = nil) {
            self.id = id
            self.name = name
            self.supercategory = supercategory
        }
    }

    /// One `annotations` entry (segmentation is not kept: evaluation is bbox-only).
    public struct Annotation: Sendable, Equatable {
        public var id: Int
        public var imageId: Int
        public var categoryId: Int
        public var box: COCOBox
        /// The file's `area` field (for COCO, the segmentation area, smaller than the box);
        /// it, not the box, decides the small/medium/large range, as in pycocotools.
        public var area: Double
        /// Crowd regions are ignored in evaluation and matched with the crowd IoU.
        public var isCrowd: Bool

        public init(id: Int, imageId: Int, categoryId: Int, box: COCOBox, area: Double? = nil, isCrowd: Bool = false) {
            self.id = id
            self.imageId = imageId
            self.categoryId = categoryId
            self.box = box
            self.area = area ?? box.area
            self.isCrowd = isCrowd
        }
    }

    public private(set) var images: [Image]
    public private(set) var categories: [Category]
    public private(set) var annotations: [Annotation]
    /// What the load tolerated (duplicates merged, degenerate boxes kept).
    public private(set) var report = COCOLoadReport()

    /// Validates and indexes entries built in code. `name` labels errors.
    public init(images: [Image], categories: [Category], annotations: [Annotation], name: String = "dataset") throws {
        self.images = []
        self.categories = []
        self.annotations = []
        try store(images: images, categories: categories, annotations: annotations, file: name)
    }

    /// Loads a COCO annotation file; errors name it as `displayName` (default: the path as given).
    public init(contentsOf url: URL, displayName: String? = nil) throws {
        let name = displayName ?? url.relativePath
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw COCOError(.unreadableFile, file: name, "cannot read the file (\(Self.reason(error)))")
        }
        try self.init(jsonData: data, name: name)
    }

    /// Parses the JSON text of an annotation file; `name` labels errors.
    public init(jsonData: Data, name: String) throws {
        self.images = []
        self.categories = []
        self.annotations = []
        let parsed = try jsonData.withUnsafeBytes { raw in
            try JSONCursor.parse(raw.bindMemory(to: UInt8.self), file: name) { cursor in
                try DatasetParser(file: name).parse(&cursor)
            }
        }
        try store(images: parsed.images, categories: parsed.categories, annotations: parsed.annotations, file: name)
    }

    /// Image ids in ascending order, without repeats (pycocotools' default `imgIds`).
    public var imageIds: [Int] { images.map(\.id).sorted() }

    /// Category ids in ascending order (pycocotools' default `catIds`).
    public var categoryIds: [Int] { categories.map(\.id).sorted() }

    /// The category with `id`, if any.
    public func category(id: Int) -> Category? { categories.first { $0.id == id } }

    private mutating func store(images: [Image], categories: [Category], annotations: [Annotation], file: String) throws
    {
        var report = COCOLoadReport()
        var seenImages = Set<Int>(minimumCapacity: images.count)
        var keptImages: [Image] = []
        keptImages.reserveCapacity(images.count)
        for (index, image) in images.enumerated() {
            if seenImages.insert(image.id).inserted { keptImages.append(image); continue }
            if report.duplicates == 0 {
                report.notes.append(
                    "image \(image.id) (index \(index)) repeats an image id; one entry kept, as pycocotools does")
            }
            report.duplicates += 1
        }
        self.images = keptImages
        var seenCategories = Set<Int>()
        var keptCategories: [Category] = []
        for (index, category) in categories.enumerated() {
            if seenCategories.insert(category.id).inserted { keptCategories.append(category); continue }
            if report.duplicates == 0 {
                report.notes.append(
                    """
                    category \(category.id) (index \(index)) repeats a category id; one entry kept, as pycocotools \
                    does
                    """
                )
            }
            report.duplicates += 1
        }
        self.categories = keptCategories

        var annotationIndex = [Int: Int](minimumCapacity: annotations.count)
        for (index, annotation) in annotations.enumerated() {
            let context = EntryContext(file: file, kind: "annotation", index: index, id: annotation.id)
            if let first = annotationIndex.updateValue(index, forKey: annotation.id) {
                throw COCOError(
                    .duplicateId, file: file,
                    """
                    \(context.label) repeats the id of the annotation at index \(first) (pycocotools would silently \
                    use only one of them)
                    """
                )
            }
            guard seenImages.contains(annotation.imageId) else {
                throw COCOError(
                    .unknownReference, file: file, "\(context.label) refers to unknown image_id \(annotation.imageId)")
            }
            guard seenCategories.contains(annotation.categoryId) else {
                throw COCOError(
                    .unknownReference, file: file,
                    "\(context.label) refers to unknown category_id \(annotation.categoryId)")
            }
            try Self.check(annotation.box, context)
            guard annotation.area.isFinite, annotation.area >= 0 else {
                throw context.invalid("has an invalid area \(annotation.area) (must be finite and >= 0)")
            }
            if annotation.box.isDegenerate {
                if report.degenerateBoxes == 0 {
                    report.notes.append(
                        "\(context.label) has a zero-size bbox; kept as pycocotools does (it can never be matched)")
                }
                report.degenerateBoxes += 1
            }
        }
        self.annotations = annotations
        self.report = report
    }

    /// Rejects non-finite coordinates and negative sizes.
    static func check(_ box: COCOBox, _ context: EntryContext) throws {
        guard box.x.isFinite, box.y.isFinite, box.width.isFinite, box.height.isFinite else {
            throw context.invalid("has a non-finite bbox \(box.array)")
        }
        guard box.width >= 0, box.height >= 0 else {
            throw context.invalid(
                "has a bbox with negative width or height \(box.array) (expected [x, y, width, height])")
        }
    }

    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
            let text = strerror(Int32(underlying.code))
        {
            return String(cString: text)
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError {
            return "No such file or directory"
        }
        return nsError.localizedDescription
    }
}
