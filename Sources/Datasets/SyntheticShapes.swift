import Foundation
import Vision

/// A generator of small detection pictures: filled circles, rectangles and triangles on
/// textured backgrounds (gradient + waves + pixel noise), 1–4 clearly visible objects each.
/// Meant for smoke-training a detector in minutes and for tests; `write(to:images:)`
/// (`SyntheticShapes+COCO.swift`) stores a COCO-format train/val split.
///
/// Every picture is a pure function of `(seed, index)`.
public struct SyntheticShapes: Sendable, Equatable {
    /// The object classes; raw values are the COCO category ids.
    public enum Shape: Int, Sendable, CaseIterable, Codable {
        case circle = 1
        case rectangle = 2
        case triangle = 3

        public var name: String {
            switch self {
            case .circle: "circle"
            case .rectangle: "rectangle"
            case .triangle: "triangle"
            }
        }
    }

    /// One drawn object.
    public struct Object: Sendable, Equatable {
        public var shape: Shape
        /// Tight bounding box `[x, y, width, height]` in pixels (continuous coordinates).
        public var x: Double
        public var y: Double
        public var width: Double
        public var height: Double
        /// The shape's exact area (π r², w h, or w h / 2), not the box's.
        public var area: Double
    }

    /// One generated image and its objects, in drawing order.
    public struct Picture: Sendable, Equatable {
        public var image: Image
        public var objects: [Object]
    }

    /// What the category of an object says.
    public enum Labels: String, Sendable, CaseIterable {
        /// Its shape: circle 1, rectangle 2, triangle 3.
        case shape
        /// Its shape and size: small and large circle 1, 2, rectangle 3, 4, triangle 5, 6; large
        /// when the square root of the box area is at least 0.3 of the image's shorter side.
        case shapeAndSize = "shape-size"
    }

    public var seed: UInt64
    /// The categories of the annotations (the pictures do not depend on it).
    public var labels: Labels = .shape
    /// Image width and height are drawn independently from this range (pixels).
    public var sizeRange: ClosedRange<Int>
    public var objectsPerImage: ClosedRange<Int>
    /// Object size as a fraction of the shorter image side.
    public var objectScale: ClosedRange<Double>

    public init(
        seed: UInt64 = 0, sizeRange: ClosedRange<Int> = 96...160, objectsPerImage: ClosedRange<Int> = 1...4,
        objectScale: ClosedRange<Double> = 0.15...0.45
    ) {
        precondition(sizeRange.lowerBound >= 8, "SyntheticShapes: images must be at least 8 px")
        precondition(objectsPerImage.lowerBound >= 1, "SyntheticShapes: at least one object per image")
        precondition(
            objectScale.lowerBound > 0 && objectScale.upperBound <= 0.9, "SyntheticShapes: object scale in (0, 0.9]")
        self.seed = seed
        self.sizeRange = sizeRange
        self.objectsPerImage = objectsPerImage
        self.objectScale = objectScale
    }

    /// The picture with number `index`.
    public func picture(index: Int) -> Picture {
        var rng = SeededRandom(seed: seed, stream: [0x5348_4150_4553, UInt64(index)])
        let w = rng.int(in: sizeRange), h = rng.int(in: sizeRange)
        var canvas = Canvas(width: w, height: h)
        canvas.paintBackground(random: &rng)
        let wanted = rng.int(in: objectsPerImage)
        var objects: [Object] = []
        for _ in 0..<wanted {
            // Rejection sampling: objects may barely touch but never hide each other.
            for _ in 0..<30 {
                let candidate = Self.randomObject(width: w, height: h, scale: objectScale, random: &rng)
                if objects.allSatisfy({ Self.iou($0, candidate) <= 0.05 }) {
                    let colour = canvas.contrastingColour(for: candidate, random: &rng)
                    canvas.draw(candidate, colour: colour, random: &rng)
                    objects.append(candidate)
                    break
                }
            }
        }
        return Picture(image: canvas.image, objects: objects)
    }

    static func randomObject(
        width w: Int, height h: Int, scale: ClosedRange<Double>,
        random rng: inout SeededRandom
    ) -> Object {
        let side = Double(min(w, h)) * rng.uniform(scale.lowerBound, scale.upperBound)
        let shape = rng.choice(Shape.allCases)
        var bw = side, bh = side
        if shape != .circle {
            let aspect = rng.uniform(0.6, 1.6)  // w / h
            bw = min(side * aspect.squareRoot(), Double(w) * 0.9)
            bh = min(side / aspect.squareRoot(), Double(h) * 0.9)
        }
        let x = rng.uniform(0, Double(w) - bw), y = rng.uniform(0, Double(h) - bh)
        let area: Double
        switch shape {
        case .circle: area = Double.pi * (bw / 2) * (bw / 2)
        case .rectangle: area = bw * bh
        case .triangle: area = bw * bh / 2
        }
        return Object(shape: shape, x: x, y: y, width: bw, height: bh, area: area)
    }

    /// The categories of `labels` (id, name).
    public var categories: [(id: Int, name: String)] {
        switch labels {
        case .shape: Shape.allCases.map { ($0.rawValue, $0.name) }
        case .shapeAndSize:
            Shape.allCases.flatMap { s in [(2 * s.rawValue - 1, "small \(s.name)"), (2 * s.rawValue, "large \(s.name)")] }
        }
    }

    /// The category id of `o` in a picture of `width` × `height`.
    public func category(of o: Object, width: Int, height: Int) -> Int {
        switch labels {
        case .shape: return o.shape.rawValue
        case .shapeAndSize:
            let large = (o.width * o.height).squareRoot() >= 0.3 * Double(min(width, height))
            return 2 * o.shape.rawValue - (large ? 0 : 1)
        }
    }

    static func iou(_ a: Object, _ b: Object) -> Double {
        let iw = max(0, min(a.x + a.width, b.x + b.width) - max(a.x, b.x))
        let ih = max(0, min(a.y + a.height, b.y + b.height) - max(a.y, b.y))
        let inter = iw * ih
        return inter / (a.width * a.height + b.width * b.height - inter)
    }
}

/// A float RGB drawing surface for `SyntheticShapes`.
struct Canvas {
    let width: Int
    let height: Int
    var rgb: [Double]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        rgb = [Double](repeating: 0, count: width * height * 3)
    }

    /// A two-colour linear gradient in a random direction, two soft wave patterns and pixel noise.
    mutating func paintBackground(random rng: inout SeededRandom) {
        let c1 = (0..<3).map { _ in rng.uniform(30, 225) }, c2 = (0..<3).map { _ in rng.uniform(30, 225) }
        let angle = rng.uniform(0, 2 * Double.pi), dx = cos(angle), dy = sin(angle)
        let waves = (0..<2).map { _ in
            (
                fx: rng.uniform(0.02, 0.15), fy: rng.uniform(0.02, 0.15), phase: rng.uniform(0, 6.3),
                amp: rng.uniform(5, 18)
            )
        }
        let noise = rng.uniform(4, 14)
        let span = abs(dx) * Double(width) + abs(dy) * Double(height)
        let offset = min(0, dx * Double(width)) + min(0, dy * Double(height))
        for y in 0..<height {
            for x in 0..<width {
                let t = ((Double(x) * dx + Double(y) * dy) - offset) / span
                var wave = 0.0
                for v in waves { wave += v.amp * sin(v.fx * Double(x) + v.fy * Double(y) + v.phase) }
                let i = 3 * (y * width + x)
                for c in 0..<3 {
                    rgb[i + c] = c1[c] * (1 - t) + c2[c] * t + wave + rng.uniform(-noise, noise)
                }
            }
        }
    }

    /// A saturated colour far (in RGB distance) from the background under the object's box.
    func contrastingColour(for o: SyntheticShapes.Object, random rng: inout SeededRandom) -> [Double] {
        var mean = [0.0, 0.0, 0.0], n = 0.0
        for y in Int(o.y)..<min(height, Int(o.y + o.height) + 1) {
            for x in Int(o.x)..<min(width, Int(o.x + o.width) + 1) {
                for c in 0..<3 { mean[c] += rgb[3 * (y * width + x) + c] }
                n += 1
            }
        }
        mean = mean.map { $0 / max(n, 1) }
        var best = mean.map { $0 < 128 ? 255.0 : 0.0 }
        for _ in 0..<20 {
            var colour = (0..<3).map { _ in rng.uniform(0, 255) }
            colour[rng.int(in: 0...2)] = rng.bernoulli(0.5) ? rng.uniform(200, 255) : rng.uniform(0, 55)
            let distance = zip(colour, mean).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            if distance > 140 { best = colour; break }
        }
        return best
    }

    /// Fills the shape with 4x4 supersampled coverage (anti-aliased edges) and a little texture.
    mutating func draw(_ o: SyntheticShapes.Object, colour: [Double], random rng: inout SeededRandom) {
        let grain = rng.uniform(2, 8)
        let x0 = max(0, Int(o.x)), x1 = min(width - 1, Int((o.x + o.width).rounded(.up)))
        let y0 = max(0, Int(o.y)), y1 = min(height - 1, Int((o.y + o.height).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let apex = o.x + o.width * rng.uniform(0.2, 0.8)  // triangle top vertex
        for y in y0...y1 {
            for x in x0...x1 {
                var hits = 0
                for sy in 0..<4 {
                    for sx in 0..<4 {
                        let px = Double(x) + (Double(sx) + 0.5) / 4, py = Double(y) + (Double(sy) + 0.5) / 4
                        if Self.contains(o, px, py, apex: apex) { hits += 1 }
                    }
                }
                guard hits > 0 else { continue }
                let a = Double(hits) / 16
                let i = 3 * (y * width + x)
                for c in 0..<3 {
                    let fill = colour[c] + rng.uniform(-grain, grain)
                    rgb[i + c] = rgb[i + c] * (1 - a) + fill * a
                }
            }
        }
    }

    /// Whether point (px, py) is inside the shape (triangle: base along the box bottom, apex on top).
    static func contains(_ o: SyntheticShapes.Object, _ px: Double, _ py: Double, apex: Double) -> Bool {
        switch o.shape {
        case .circle:
            let r = o.width / 2, cx = o.x + r, cy = o.y + r
            return (px - cx) * (px - cx) + (py - cy) * (py - cy) <= r * r
        case .rectangle:
            return px >= o.x && px <= o.x + o.width && py >= o.y && py <= o.y + o.height
        case .triangle:
            guard py >= o.y && py <= o.y + o.height else { return false }
            let t = (py - o.y) / o.height  // 0 at the apex, 1 at the base
            let left = apex + (o.x - apex) * t, right = apex + (o.x + o.width - apex) * t
            return px >= left && px <= right
        }
    }

    var image: Image {
        Image(width: width, height: height, pixels: rgb.map { UInt8(max(0, min(255, $0.rounded()))) })
    }
}
