import Foundation
import Torch

/// Class names of the 91-column COCO classifiers: index = COCO category id; the 11 ids COCO
/// does not use (and 0) are "N/A".
public enum COCOClassNames {
    public static let names: [String] = [
        "N/A", "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
        "traffic light", "fire hydrant", "N/A", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse",
        "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "N/A", "backpack", "umbrella", "N/A",
        "N/A", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat",
        "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle", "N/A", "wine glass", "cup", "fork",
        "knife",
        "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza",
        "donut", "cake", "chair", "couch", "potted plant", "bed", "N/A", "dining table", "N/A", "N/A",
        "toilet", "N/A", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
        "toaster", "sink", "refrigerator", "N/A", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
        "toothbrush",
    ]

    /// Names for a classifier with `numClasses` columns: COCO names for 91, else "class N".
    public static func names(numClasses: Int) -> [String] {
        numClasses == names.count ? names : (0..<numClasses).map { "class \($0)" }
    }

    /// Names stored with a checkpoint, else the defaults of `names(numClasses:)`:
    /// swift-detr checkpoints keep them as JSON in the metadata (`class_names`, or
    /// `extra.class_names` in training checkpoints); official Salience DETR checkpoints may carry a
    /// `_classes_` buffer (character codes, names separated by −1).
    public static func names(from weights: LoadedWeights, numClasses: Int) -> [String] {
        let defaults = names(numClasses: numClasses)
        if let json = weights.metadata["class_names"] ?? weights.metadata["extra.class_names"],
            let list = try? JSONDecoder().decode([String?].self, from: Data(json.utf8)), list.count == numClasses
        {
            return zip(list, defaults).map { $0 ?? $1 }
        }
        if let codes = weights.tensors["_classes_"], codes.dtype == .int64 {
            let values = codes.ints
            var decoded: [String] = [], current = ""
            for v in values {
                if v < 0 {
                    decoded.append(current); current = ""
                } else if let u = Unicode.Scalar(v) {
                    current.unicodeScalars.append(u)
                }
            }
            if !current.isEmpty { decoded.append(current) }
            if decoded.count == numClasses { return decoded }
        }
        return defaults
    }
}
