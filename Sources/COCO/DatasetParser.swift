/// Reads the `images`, `categories` and `annotations` arrays of an annotation file.
struct DatasetParser {
    let file: String

    struct Parsed {
        var images: [COCODataset.Image] = []
        var categories: [COCODataset.Category] = []
        var annotations: [COCODataset.Annotation] = []
    }

    func parse(_ cursor: inout JSONCursor) throws -> Parsed {
        guard try cursor.peekKind() == .object else {
            let hint = try cursor.peekKind() == .array ? " (found an array: is this a results file?)" : ""
            throw COCOError(
                .invalidValue, file: file,
                "expected a JSON object with 'images', 'annotations' and 'categories'\(hint)")
        }
        var parsed = Parsed()
        var seen: Set<String> = []
        try cursor.forEachMember { cursor, key in
            if cursor.key(key, is: "images") {
                seen.insert("images")
                parsed.images = try readArray(&cursor, field: "images", readImage)
            } else if cursor.key(key, is: "categories") {
                seen.insert("categories")
                parsed.categories = try readArray(&cursor, field: "categories", readCategory)
            } else if cursor.key(key, is: "annotations") {
                seen.insert("annotations")
                parsed.annotations = try readArray(&cursor, field: "annotations", readAnnotation)
            } else {
                try cursor.skipValue()
            }
        }
        for field in ["images", "annotations", "categories"] where !seen.contains(field) {
            throw COCOError(.missingField, file: file, "missing top-level field '\(field)'")
        }
        return parsed
    }

    private func readArray<T>(
        _ cursor: inout JSONCursor, field: String,
        _ read: (inout JSONCursor, Int) throws -> T
    ) throws -> [T] {
        guard try cursor.peekKind() == .array else {
            throw COCOError(.invalidValue, file: file, "top-level field '\(field)' must be an array")
        }
        var items: [T] = []
        try cursor.forEachElement { cursor, index in items.append(try read(&cursor, index)) }
        return items
    }

    private func requireObject(_ cursor: inout JSONCursor, _ context: EntryContext) throws {
        guard try cursor.peekKind() == .object else { throw context.invalid("is not a JSON object") }
    }

    private func readImage(_ cursor: inout JSONCursor, _ index: Int) throws -> COCODataset.Image {
        var context = EntryContext(file: file, kind: "image", index: index)
        try requireObject(&cursor, context)
        var id: Int?, width: Int?, height: Int?, fileName: String?
        try cursor.forEachMember { cursor, key in
            if cursor.key(key, is: "id") {
                id = try context.field("id") { try cursor.readInt() }
                context.id = id
            } else if cursor.key(key, is: "width"), try cursor.peekKind() != .null {
                width = try context.field("width") { try cursor.readInt() }
            } else if cursor.key(key, is: "height"), try cursor.peekKind() != .null {
                height = try context.field("height") { try cursor.readInt() }
            } else if cursor.key(key, is: "file_name"), try cursor.peekKind() != .null {
                fileName = try context.field("file_name") { try cursor.readString() }
            } else {
                try cursor.skipValue()
            }
        }
        guard let id else { throw context.missing("id") }
        return COCODataset.Image(id: id, width: width, height: height, fileName: fileName)
    }

    private func readCategory(_ cursor: inout JSONCursor, _ index: Int) throws -> COCODataset.Category {
        var context = EntryContext(file: file, kind: "category", index: index)
        try requireObject(&cursor, context)
        var id: Int?, name: String?, supercategory: String?
        try cursor.forEachMember { cursor, key in
            if cursor.key(key, is: "id") {
                id = try context.field("id") { try cursor.readInt() }
                context.id = id
            } else if cursor.key(key, is: "name") {
                name = try context.field("name") { try cursor.readString() }
            } else if cursor.key(key, is: "supercategory"), try cursor.peekKind() != .null {
                supercategory = try context.field("supercategory") { try cursor.readString() }
            } else {
                try cursor.skipValue()
            }
        }
        guard let id else { throw context.missing("id") }
        return COCODataset.Category(id: id, name: name ?? "", supercategory: supercategory)
    }

    private func readAnnotation(_ cursor: inout JSONCursor, _ index: Int) throws -> COCODataset.Annotation {
        var context = EntryContext(file: file, kind: "annotation", index: index)
        try requireObject(&cursor, context)
        var id: Int?, imageId: Int?, categoryId: Int?, box: COCOBox?, area: Double?, crowd: Bool?
        try cursor.forEachMember { cursor, key in
            if cursor.key(key, is: "id") {
                id = try context.field("id") { try cursor.readInt() }
                context.id = id
            } else if cursor.key(key, is: "image_id") {
                imageId = try context.field("image_id") { try cursor.readInt() }
            } else if cursor.key(key, is: "category_id") {
                categoryId = try context.field("category_id") { try cursor.readInt() }
            } else if cursor.key(key, is: "bbox") {
                box = try context.field("bbox") { try cursor.readBox() }
            } else if cursor.key(key, is: "area") {
                area = try context.field("area") { try cursor.readDouble() }
            } else if cursor.key(key, is: "iscrowd") {
                crowd = try context.field("iscrowd") { try cursor.readCrowdFlag() }
            } else {
                try cursor.skipValue()
            }
        }
        guard let id else { throw context.missing("id") }
        guard let imageId else { throw context.missing("image_id") }
        guard let categoryId else { throw context.missing("category_id") }
        guard let box else { throw context.missing("bbox") }
        guard let area else { throw context.missing("area") }
        guard let crowd else { throw context.missing("iscrowd") }
        return COCODataset.Annotation(
            id: id, imageId: imageId, categoryId: categoryId, box: box, area: area, isCrowd: crowd)
    }
}
