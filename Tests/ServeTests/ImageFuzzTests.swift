import Detection
import Foundation
import Serving
import TestSupport
import Testing
import Torch
import Vision

/// Seeded, bounded fuzzing of the path every user image takes in `detr predict` and `detr serve`:
/// header check, decode, the model's resize and normalisation, the forward and post-processing.
/// Mutated PNG and JPEG headers and bodies, truncations and extreme sizes and aspect ratios must
/// each give detections or a one-line error; none may trap (a trap ends the test process).
@Suite struct ImageFuzzTests {
    /// What happened to one input.
    enum Outcome: Equatable {
        case detections(Int)
        case refused(String)
    }

    static let pixelLimit = 4_000_000

    /// The serve/predict path for one input: a result or the error's one-line description.
    static func run(_ data: Data, engine: DetectionEngine) -> Outcome {
        do {
            let header = try ImageHeader(data: data, name: "fuzz")
            guard header.pixelCount <= pixelLimit else { return .refused("over the pixel limit") }
            let image = try Image(data: data, name: "fuzz")
            let prepared = try engine.prepare(image)
            let detections = try engine.detect([prepared], options: [DetectionOptions(threshold: 0.3)])
            return .detections(detections[0].count)
        } catch {
            return .refused("\(error)")
        }
    }

    @Test func mutatedAndExtremeImagesNeverTrap() throws {
        let engine = try DetectionEngine.load(config: ServeHarness.demoConfig, weights: ServeHarness.demoWeights)
        let sample = try Image(contentsOf: ServeHarness.samples[0])
        let small = sample.resizedBilinear(width: 48, height: 40)
        let seeds: [Data] = [try small.encoded(.png), try small.encoded(.jpeg(quality: 90))]
        var random = SplitMix64(seed: 0x5EED_2024)
        var cases: [(String, Data)] = []
        // Extreme sizes and aspect ratios, valid files.
        for (w, h) in [(1, 1), (1, 300), (300, 1), (2, 999), (4000, 1), (1, 4000), (3, 2)] {
            let image = Image(width: w, height: h, fill: (200, 30, 90))
            cases.append(("\(w)x\(h) png", try image.encoded(.png)))
            cases.append(("\(w)x\(h) jpeg", try image.encoded(.jpeg(quality: 80))))
        }
        // Mutations of valid files: bytes flipped in the header and the body, truncations,
        // header sizes overwritten with extreme values.
        for i in 0..<160 {
            var bytes = [UInt8](seeds[i % seeds.count])
            let kind = i % 4
            switch kind {
            case 0:
                for _ in 0..<random.int(1..<6) {
                    bytes[random.int(0..<min(64, bytes.count))] ^= UInt8(random.int(1..<256))
                }
            case 1:
                for _ in 0..<random.int(1..<20) { bytes[random.int(0..<bytes.count)] = UInt8(random.int(0..<256)) }
            case 2:
                bytes = Array(bytes.prefix(random.int(0..<bytes.count)))
            default:
                // PNG: IHDR width and height at bytes 16..<24; JPEG: anywhere in the first 200 bytes.
                let at = i % seeds.count == 0 ? 16 + 4 * random.int(0..<2) : random.int(2..<min(200, bytes.count - 4))
                let value = [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, 65535, 65536, 100_000][random.int(0..<7)]
                for k in 0..<4 where at + k < bytes.count { bytes[at + k] = UInt8((value >> (8 * (3 - k))) & 0xFF) }
            }
            cases.append(("mutation \(i) (kind \(kind))", Data(bytes)))
        }
        cases.append(("empty", Data()))
        cases.append(("noise", Data((0..<4096).map { _ in UInt8(random.int(0..<256)) })))
        var detected = 0, refused = 0
        for (name, data) in cases {
            switch Self.run(data, engine: engine) {
            case .detections:
                detected += 1
            case .refused(let message):
                refused += 1
                #expect(!message.isEmpty && !message.contains("\n"), "\(name): \(message)")
            }
        }
        // Every valid extreme-size file gives detections (none refused); the count is derived
        // from the cases above.
        let valid = cases.prefix { !$0.0.hasPrefix("mutation") }.count
        #expect(detected >= valid, "\(detected) of \(cases.count) detected, \(refused) refused")
    }
}
