import Foundation

extension COCODataset {
    /// The dataset as a COCO annotation file: `images`, `annotations` (`bbox` [x, y, w, h] in
    /// pixels, `area`, `iscrowd`) and `categories`, keys sorted; `info` when given.
    public func jsonData(info: [String: String]? = nil) throws -> Data {
        let file = FileShape(
            info: info,
            images: images.map { .init(id: $0.id, width: $0.width, height: $0.height, fileName: $0.fileName) },
            annotations: annotations.map {
                .init(
                    id: $0.id, imageId: $0.imageId, categoryId: $0.categoryId, iscrowd: $0.isCrowd ? 1 : 0,
                    bbox: [$0.box.x, $0.box.y, $0.box.width, $0.box.height], area: $0.area)
            },
            categories: categories.map { .init(id: $0.id, name: $0.name, supercategory: $0.supercategory) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(file)
    }
}

/// The JSON shape of a COCO annotation file (snake_case keys, as in the format).
private struct FileShape: Encodable {
    struct Image: Encodable {
        var id: Int
        var width, height: Int?
        var fileName: String?
    }

    struct Annotation: Encodable {
        var id, imageId, categoryId, iscrowd: Int
        var bbox: [Double]
        var area: Double
    }

    struct Category: Encodable {
        var id: Int
        var name: String
        var supercategory: String?
    }

    var info: [String: String]?
    var images: [Image]
    var annotations: [Annotation]
    var categories: [Category]
}
