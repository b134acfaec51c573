import COCO
import Foundation
import Testing

/// Malformed and inconsistent inputs: one clear `COCOError` naming file and entry, or a
/// counted note where pycocotools tolerates the input. Never a crash.
@Suite struct LoadingErrorTests {
    static let images = #"[{"id":1,"width":640,"height":480,"file_name":"a.jpg"},{"id":2}]"#
    static let categories = #"[{"id":3,"name":"car"},{"id":8,"name":"truck"}]"#

    static func annotation(
        id: Int = 1, image: Int = 1, category: Int = 3, bbox: String = "[10,10,20,20]",
        extra: String = #","area":400,"iscrowd":0"#
    ) -> String {
        #"{"id":\#(id),"image_id":\#(image),"category_id":\#(category),"bbox":\#(bbox)\#(extra)}"#
    }

    static func gt(_ annotations: [String]) -> Data {
        Data(
            #"{"images":\#(images),"annotations":[\#(annotations.joined(separator: ","))],"categories":\#(categories)}"#
                .utf8)
    }

    static func loadGT(_ text: String) throws -> COCODataset {
        try COCODataset(jsonData: Data(text.utf8), name: "gt.json")
    }

    static func expectError(
        _ kind: COCOErrorKind, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("expected a \(kind) error containing \"\(fragment)\"", sourceLocation: sourceLocation)
        } catch let error as COCOError {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func malformedJSONNamesFileAndPosition() {
        Self.expectError(.malformedJSON, "gt.json: malformed JSON at line 1, column 13") {
            _ = try Self.loadGT(#"{"images": ["#)
        }
        Self.expectError(.malformedJSON, "line 2, column 10: expected a string key") {
            _ = try Self.loadGT("{\"images\": [\n{\"id\": 1,}]}")
        }
        Self.expectError(.malformedJSON, "extra data") {
            _ = try Self.loadGT(#"{"images":[],"annotations":[],"categories":[]} x"#)
        }
        Self.expectError(.malformedJSON, "expected a value") { _ = try Self.loadGT(#"{"images":[NaN]}"#) }
        Self.expectError(.malformedJSON, "unterminated string") { _ = try Self.loadGT(#"{"images":[{"file_name":"a"#) }
        Self.expectError(.malformedJSON, "invalid number") { _ = try Self.loadGT(#"{"images":[{"id":-}]}"#) }
        Self.expectError(.malformedJSON, "unexpected end of data") { _ = try Self.loadGT("") }
        Self.expectError(.malformedJSON, "nesting deeper") {
            _ = try Self.loadGT(#"{"info":"# + String(repeating: "[", count: 10_000) + "}")
        }
    }

    @Test func wrongTopLevelShapes() {
        Self.expectError(.invalidValue, "is this a results file?") { _ = try Self.loadGT("[]") }
        Self.expectError(.missingField, "gt.json: missing top-level field 'annotations'") {
            _ = try Self.loadGT(#"{"images":[],"categories":[]}"#)
        }
        Self.expectError(.invalidValue, "top-level field 'images' must be an array") {
            _ = try Self.loadGT(#"{"images":{},"annotations":[],"categories":[]}"#)
        }
        Self.expectError(.invalidValue, "is this an annotation file?") {
            _ = try COCOResults(jsonData: Data(#"{"images":[]}"#.utf8), name: "dets.json")
        }
    }

    @Test func missingAndMistypedFields() {
        Self.expectError(.missingField, "gt.json: annotation 5 (index 0) is missing field 'area'") {
            _ = try COCODataset(jsonData: Self.gt([Self.annotation(id: 5, extra: #","iscrowd":0"#)]), name: "gt.json")
        }
        Self.expectError(.missingField, "annotation at index 0 is missing field 'id'") {
            _ = try Self.loadGT(#"{"images":[],"annotations":[{"image_id":1}],"categories":[]}"#)
        }
        Self.expectError(.missingField, "image at index 1 is missing field 'id'") {
            _ = try Self.loadGT(#"{"images":[{"id":1},{"width":3}],"annotations":[],"categories":[]}"#)
        }
        Self.expectError(
            .invalidValue, "annotation 1 (index 0): field 'bbox': expected 4 numbers [x, y, width, height], found 3"
        ) {
            _ = try COCODataset(jsonData: Self.gt([Self.annotation(bbox: "[1,2,3]")]), name: "gt.json")
        }
        Self.expectError(.invalidValue, "field 'bbox': expected a number") {
            _ = try COCODataset(jsonData: Self.gt([Self.annotation(bbox: #"[1,2,"3",4]"#)]), name: "gt.json")
        }
        Self.expectError(.invalidValue, "field 'image_id': expected an integer, found 1.5") {
            _ = try COCODataset(jsonData: Self.gt([Self.annotation(extra: #","image_id":1.5"#)]), name: "gt.json")
        }
        Self.expectError(.invalidValue, "annotation at index 0 is not a JSON object") {
            _ = try COCODataset(jsonData: Self.gt(["[1]"]), name: "gt.json")
        }
    }

    @Test func unknownReferencesInAnnotations() {
        var annotations = (1...16).map { Self.annotation(id: $0) }
        annotations.append(Self.annotation(id: 17, image: 99))
        Self.expectError(.unknownReference, "gt.json: annotation 17 (index 16) refers to unknown image_id 99") {
            _ = try COCODataset(jsonData: Self.gt(annotations), name: "gt.json")
        }
        Self.expectError(.unknownReference, "annotation 1 (index 0) refers to unknown category_id 4") {
            _ = try COCODataset(jsonData: Self.gt([Self.annotation(category: 4)]), name: "gt.json")
        }
        Self.expectError(.duplicateId, "annotation 1 (index 1) repeats the id of the annotation at index 0") {
            _ = try COCODataset(jsonData: Self.gt([Self.annotation(), Self.annotation()]), name: "gt.json")
        }
    }

    @Test func negativeAndDegenerateBoxes() throws {
        Self.expectError(.invalidValue, "annotation 1 (index 0) has a bbox with negative width or height") {
            _ = try COCODataset(jsonData: Self.gt([Self.annotation(bbox: "[10,10,-5,20]")]), name: "gt.json")
        }
        Self.expectError(.invalidValue, "has an invalid area -3") {
            _ = try COCODataset(
                jsonData: Self.gt([Self.annotation(extra: #","area":-3,"iscrowd":0"#)]), name: "gt.json")
        }
        Self.expectError(.malformedJSON, "number out of range") {
            _ = try COCODataset(jsonData: Self.gt([Self.annotation(bbox: "[1e999,0,1,1]")]), name: "gt.json")
        }
        let dataset = try COCODataset(
            jsonData: Self.gt([Self.annotation(bbox: "[10,10,0,20]"), Self.annotation(id: 2)]),
            name: "gt.json")
        #expect(dataset.report.degenerateBoxes == 1)
        #expect(dataset.report.notes.first?.contains("annotation 1 (index 0) has a zero-size bbox") == true)

        let dets = Data(#"[{"image_id":1,"category_id":3,"bbox":[10,10,-1,5],"score":0.5}]"#.utf8)
        Self.expectError(.invalidValue, "dets.json: detection 1 (index 0) has a bbox with negative width or height") {
            _ = try COCOResults(jsonData: dets, name: "dets.json", dataset: dataset)
        }
    }

    @Test func resultsReferencesAndFields() throws {
        let dataset = try COCODataset(jsonData: Self.gt([Self.annotation()]), name: "gt.json")
        func results(_ text: String) throws -> COCOResults {
            try COCOResults(jsonData: Data(text.utf8), name: "dets.json", dataset: dataset)
        }
        Self.expectError(.unknownReference, "dets.json: detection 2 (index 1) refers to unknown image_id 7") {
            _ = try results(
                #"[{"image_id":1,"category_id":3,"bbox":[1,1,2,2],"score":1},{"image_id":7,"category_id":3,"bbox":[1,1,2,2],"score":1}]"#
            )
        }
        Self.expectError(.missingField, "detection 1 (index 0) is missing field 'score'") {
            _ = try results(#"[{"image_id":1,"category_id":3,"bbox":[1,1,2,2]}]"#)
        }
        Self.expectError(.invalidValue, "detection 1 (index 0): field 'score': expected a number") {
            _ = try results(#"[{"image_id":1,"category_id":3,"bbox":[1,1,2,2],"score":"high"}]"#)
        }
        // Unknown categories: pycocotools never selects them, so they are skipped and counted.
        let loaded = try results(
            #"[{"image_id":1,"category_id":1000,"bbox":[1,1,2,2],"score":1},{"image_id":1,"category_id":3,"bbox":[10,10,0,2],"score":1}]"#
        )
        #expect(loaded.detections.count == 1)
        #expect(loaded.report.skipped == 1 && loaded.report.degenerateBoxes == 1)
        #expect(loaded.report.notes.first?.contains("detection 1 (index 0) refers to category_id 1000") == true)
        // An empty results file is valid (pycocotools cannot load it; every AP is 0).
        let evaluation = try COCOEvaluator.evaluate(dataset: dataset, detections: try results("[]").detections)
        #expect(try evaluation.summary().stats[0] == 0)
    }

    @Test func emptyDatasetsEvaluate() throws {
        let empty = try Self.loadGT(#"{"images":[],"annotations":[],"categories":[]}"#)
        let evaluation = try COCOEvaluator.evaluate(dataset: empty, detections: [])
        #expect(evaluation.precision.isEmpty && evaluation.perCategory.isEmpty)
        #expect(try evaluation.summary().stats == Array(repeating: -1, count: 12))
        let noImages = try Self.loadGT(#"{"images":[],"annotations":[],"categories":[{"id":1,"name":"a"}]}"#)
        let noImageEvaluation = try COCOEvaluator.evaluate(dataset: noImages, detections: [], parallel: false)
        #expect(noImageEvaluation.precision.allSatisfy { $0 == -1 })
    }

    @Test func toleratedRepeatsAreCounted() throws {
        let text =
            #"{"images":[{"id":1},{"id":1}],"annotations":[],"categories":[{"id":3,"name":"a"},{"id":3,"name":"b"}]}"#
        let dataset = try Self.loadGT(text)
        #expect(dataset.images.count == 1 && dataset.categories.count == 1)
        #expect(dataset.report.duplicates == 2)
    }

    @Test func unreadableFileAndBadParameters() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/gt.json")
        Self.expectError(.unreadableFile, "/nonexistent/gt.json: cannot read the file") {
            _ = try COCODataset(contentsOf: missing)
        }
        let dataset = try COCODataset(jsonData: Self.gt([Self.annotation()]), name: "gt.json")
        Self.expectError(.invalidParameters, "IoU thresholds must lie in [0, 1]") {
            _ = try COCOEvaluator.evaluate(
                dataset: dataset, detections: [],
                parameters: COCOEvalParameters(iouThresholds: [0.5, 1.5]))
        }
        Self.expectError(.invalidParameters, "maxDets") {
            _ = try COCOEvaluator.evaluate(
                dataset: dataset, detections: [], parameters: COCOEvalParameters(maxDetections: []))
        }
        let nan = COCODetection(imageId: 1, categoryId: 3, box: COCOBox(x: 0, y: 0, width: 1, height: 1), score: .nan)
        Self.expectError(.invalidValue, "detection at index 0 has a non-finite score") {
            _ = try COCOEvaluator.evaluate(dataset: dataset, detections: [nan])
        }
        let twoMaxDets = try COCOEvaluator.evaluate(
            dataset: dataset, detections: [],
            parameters: COCOEvalParameters(maxDetections: [1, 10]))
        Self.expectError(.invalidParameters, "at least 3 maxDets") { _ = try twoMaxDets.summary() }
    }
}
