import Foundation

/// The 12 numbers and text of pycocotools' `summarize()` for bbox evaluation.
///
/// Reproduces its selection exactly, quirk included: stats[0] always reads maxDets = 100
/// (with maxDets `[1, 5, 20]` it is -1), the other AP and AR@all/area lines read
/// `maxDetections[2]`, AR lines 6–8 read `maxDetections[0...2]`.
public struct COCOSummary: Sendable, Equatable {
    /// One summary line's selection and value.
    public struct Line: Sendable, Equatable {
        public let isPrecision: Bool
        /// nil: mean over all IoU thresholds.
        public let iou: Double?
        public let area: String
        public let maxDets: Int
        public let value: Double
        /// `AP`, `AP50`, `AP75`, `APs`, `APm`, `APl`, `AR1`, `AR10`, `AR100`, `ARs`, `ARm`, `ARl`.
        public let key: String
    }

    public let lines: [Line]
    /// Text of the IoU column for the all-threshold lines, e.g. `0.50:0.95`.
    let iouRange: String

    /// The 12 stats in pycocotools order.
    public var stats: [Double] { lines.map(\.value) }

    /// Summarizes `evaluation`; needs at least three maxDets values, as pycocotools does.
    public init(_ evaluation: COCOEvaluation) throws {
        let maxDets = evaluation.parameters.maxDetections
        guard maxDets.count >= 3 else {
            throw COCOError(
                .invalidParameters, file: nil,
                "the summary needs at least 3 maxDets values (it reads maxDets[0], [1] and [2]), got \(maxDets)")
        }
        let specs: [(Bool, Double?, String, Int, String)] = [
            (true, nil, "all", 100, "AP"),
            (true, 0.5, "all", maxDets[2], "AP50"),
            (true, 0.75, "all", maxDets[2], "AP75"),
            (true, nil, "small", maxDets[2], "APs"),
            (true, nil, "medium", maxDets[2], "APm"),
            (true, nil, "large", maxDets[2], "APl"),
            (false, nil, "all", maxDets[0], "AR\(maxDets[0])"),
            (false, nil, "all", maxDets[1], "AR\(maxDets[1])"),
            (false, nil, "all", maxDets[2], "AR\(maxDets[2])"),
            (false, nil, "small", maxDets[2], "ARs"),
            (false, nil, "medium", maxDets[2], "ARm"),
            (false, nil, "large", maxDets[2], "ARl"),
        ]
        lines = specs.map { spec in
            Line(
                isPrecision: spec.0, iou: spec.1, area: spec.2, maxDets: spec.3,
                value: evaluation.mean(ap: spec.0, iou: spec.1, area: spec.2, maxDets: spec.3), key: spec.4)
        }
        let iou = evaluation.parameters.iouThresholds
        iouRange = String(format: "%0.2f:%0.2f", iou[0], iou[iou.count - 1])
    }

    /// The 12 lines exactly as pycocotools prints them, e.g.
    /// ` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.255`.
    public var text: String {
        lines.map { line in
            let title = line.isPrecision ? "Average Precision" : "Average Recall"
            let kind = line.isPrecision ? "(AP)" : "(AR)"
            let iou = line.iou.map { String(format: "%0.2f", $0) } ?? iouRange
            return " \(pad(title, 18)) \(kind) @[ IoU=\(pad(iou, 9)) | area=\(padLeft(line.area, 6)) | "
                + "maxDets=\(padLeft(String(line.maxDets), 3)) ] = \(String(format: "%0.3f", line.value))"
        }.joined(separator: "\n")
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
