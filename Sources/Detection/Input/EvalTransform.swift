import Foundation
import Torch
import Vision

/// How a "shortest side" size request becomes an output size: the two rules of the official
/// codes, for evaluation (`EvalTransform`) and training (`DetectionAugmentation`) alike.
public enum ResizeRule: String, Sendable, Codable, Equatable {
    /// DETR's `get_size_with_aspect_ratio`: the short side becomes the requested size unless the
    /// long side would exceed the maximum (Python `round` and `int` truncation). Conditional DETR.
    case detr
    /// torchvision's shortest-side resize: `r = min(size / short, maxSize / long)`, both sides
    /// `int(side * r)`. Salience DETR.
    case shortestSide
}

/// The evaluation preprocessing of the official implementations: resize by their rule, /255,
/// ImageNet normalisation, padding. The two codebases compute the output size differently (see
/// `ResizeRule`), so one image can come out a pixel wider or taller under one than under the other.
public struct EvalTransform: Sendable, Equatable {
    public var rule: ResizeRule
    public var minSize: Int
    public var maxSize: Int

    /// DETR / Conditional DETR: PIL bilinear resize with `get_size_with_aspect_ratio`; batches
    /// are padded to the largest image (no rounding).
    public static func conditionalDetr(minSize: Int, maxSize: Int) -> EvalTransform {
        EvalTransform(rule: .detr, minSize: minSize, maxSize: maxSize)
    }

    /// Salience DETR: float32 scale factor with truncation, torchvision antialiased bilinear on
    /// the float image, rounded back to uint8; batches padded to multiples of 32.
    public static func salienceDetr(minSize: Int, maxSize: Int) -> EvalTransform {
        EvalTransform(rule: .shortestSide, minSize: minSize, maxSize: maxSize)
    }

    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]

    /// Padding multiple of batches.
    public var sizeDivisor: Int {
        switch rule {
        case .detr: 1
        case .shortestSide: 32
        }
    }

    /// Output (height, width) for an input of (height, width).
    public func targetSize(height h: Int, width w: Int) -> (height: Int, width: Int) {
        switch rule {
        case .detr:
            return Self.detrSize(height: h, width: w, size: minSize, maxSize: maxSize)
        case .shortestSide:
            // torch evaluates `min_size / tensor(n)` as reciprocal(n) * min_size in float32.
            let r1 = (Float(1) / Float(Swift.min(h, w))) * Float(minSize)
            let r2 = (Float(1) / Float(Swift.max(h, w))) * Float(maxSize)
            let r = Swift.min(r1, r2)
            // The official sizes, except that a side truncated to 0 pixels (a very narrow image,
            // e.g. 1x300; the official code fails on it) is 1 pixel.
            return (Swift.max(1, Int(Float(h) * r)), Swift.max(1, Int(Float(w) * r)))
        }
    }

    /// DETR's `get_size_with_aspect_ratio` with Python semantics (banker's `round`, `int` truncation).
    static func detrSize(height h: Int, width w: Int, size requested: Int, maxSize: Int) -> (height: Int, width: Int) {
        var size = requested
        let minOrig = Double(Swift.min(w, h)), maxOrig = Double(Swift.max(w, h))
        if maxOrig / minOrig * Double(size) > Double(maxSize) {
            size = Int((Double(maxSize) * minOrig / maxOrig).rounded(.toNearestOrEven))
        }
        if size < 1 {
            // The official size is 0 pixels here (a very narrow image; the official code fails on
            // it): the short side becomes 1 pixel and the long side keeps the aspect ratio up to maxSize.
            let long = Swift.min(maxSize, Swift.max(1, Int(maxOrig / minOrig)))
            return w < h ? (long, 1) : (1, long)
        }
        if (w <= h && w == size) || (h <= w && h == size) { return (h, w) }
        if w < h { return (Int(Double(size * h) / Double(w)), size) }
        return (size, Int(Double(size * w) / Double(h)))
    }

    /// The resized image, still uint8 (the fixtures' `pre.resized_u8`).
    public func resize(_ image: Image) -> Image {
        let (h, w) = targetSize(height: image.height, width: image.width)
        switch rule {
        case .detr:
            return image.resizedBilinear(width: w, height: h)
        case .shortestSide:
            if h == image.height && w == image.width { return image }
            let x = image.tensor().to(.float32).unsqueeze(0)
            let y = Functional.interpolate(x, size: (h, w), mode: .bilinearAntialias, alignCorners: false)
            let u8 = y.squeeze(dim: 0).round().clamp(min: 0, max: 255).to(.uint8)
            return try! Image(tensor: u8)  // shape [3, h, w] by construction
        }
    }

    /// /255 and ImageNet normalisation of a uint8 image: [3, H, W] float32, in libtorch operations
    /// (the definition that `ImageBatch.collate` of images reproduces bit for bit).
    public static func normalize(_ image: Image) -> Tensor {
        let x = image.tensor().to(.float32) / 255
        let mean = Tensor(imagenetMean, shape: [3, 1, 1]), std = Tensor(imagenetStd, shape: [3, 1, 1])
        return (x - mean) / std
    }

    /// Resizes, normalises and pads a batch of images, in order.
    public func batch(_ images: [Image]) -> ImageBatch {
        ImageBatch.collate(
            images.map(resize), originalSizes: images.map { ($0.height, $0.width) }, sizeDivisor: sizeDivisor)
    }
}
