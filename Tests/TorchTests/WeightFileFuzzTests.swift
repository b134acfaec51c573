import Foundation
import TestSupport
import Testing
import Torch

/// Damaged copies of weight files (truncated, byte-flipped, random) must end in a thrown
/// `FileError` or a correct load — never a crash, a hang, or silently wrong zip weights.
@Suite struct WeightFileFuzzTests {
    struct Tally {
        var errors = 0
        var loads = 0
        var total: Int { errors + loads }
    }

    /// Loads `bytes`; a successful load must equal `reference` when `strict` (files with
    /// checksums), and must at least be readable otherwise.
    static func check(_ bytes: [UInt8], reference: StateDict, strict: Bool, _ what: String, _ tally: inout Tally) {
        do {
            let loaded = try WeightFile.load(data: Data(bytes), name: "fuzz")
            tally.loads += 1
            if strict {
                #expect(WeightFixtures.identical(loaded.tensors, reference), "\(what) loaded different tensors")
            } else {
                for (name, t) in loaded.tensors {
                    #expect(t.bytes().count == t.count * t.dtype.byteSize, "\(what): \(name)")
                }
            }
        } catch let error as FileError {
            tally.errors += 1
            #expect(error.file == "fuzz")
            #expect(!error.problem.isEmpty)
        } catch {
            Issue.record("\(what): unexpected error type \(error)")
        }
    }

    /// `truncations` truncated and `flips` byte-flipped copies of `original`.
    static func fuzz(
        _ original: [UInt8], strict: Bool, truncations: Int, flips: Int,
        rng: inout SplitMix64, _ what: String
    ) throws -> Tally {
        let reference = try WeightFile.load(data: Data(original), name: "fuzz").tensors
        var tally = Tally()
        for _ in 0..<truncations {
            let n = Int.random(in: 0..<original.count, using: &rng)
            check(Array(original.prefix(n)), reference: reference, strict: strict, "\(what) truncated to \(n)", &tally)
        }
        for _ in 0..<flips {
            var bytes = original
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            bytes[i] ^= UInt8.random(in: 1...255, using: &rng)
            check(bytes, reference: reference, strict: strict, "\(what) flipped at \(i)", &tally)
        }
        return tally
    }

    static func smallSafetensors() throws -> [UInt8] {
        var sd = StateDict()
        sd["w"] = Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        sd["b"] = Tensor([1, -1] as [Int64])
        sd["h"] = Tensor([0.5, 1.5] as [Float]).to(.float16)
        sd["m"] = Tensor([true, false] as [Bool])
        return try [UInt8](Safetensors.serialize(sd, metadata: ["format": "pt"]))
    }

    @Test func damagedFilesFailCleanly() throws {
        var rng = SplitMix64(seed: 20_240_601)
        let zip = try [UInt8](Data(contentsOf: WeightFixtures.url("checkpoint_zip.pth")))
        let legacy = try [UInt8](Data(contentsOf: WeightFixtures.url("checkpoint_legacy.pth")))
        var tallies: [String: Tally] = [:]
        tallies["zip"] = try Self.fuzz(zip, strict: true, truncations: 200, flips: 400, rng: &rng, "zip")
        tallies["legacy"] = try Self.fuzz(legacy, strict: false, truncations: 200, flips: 400, rng: &rng, "legacy")
        tallies["safetensors"] = try Self.fuzz(
            try Self.smallSafetensors(), strict: false, truncations: 150, flips: 250,
            rng: &rng, "safetensors")

        // Flips inside zip data records specifically: always a CRC error.
        let reference = try WeightFile.load(data: Data(zip)).tensors
        let records = WeightFixtures.dataRecords(zip).filter { $0.count > 0 }
        var crc = Tally()
        for _ in 0..<100 {
            let record = records[Int.random(in: 0..<records.count, using: &rng)]
            var bytes = zip
            bytes[record.start + Int.random(in: 0..<record.count, using: &rng)] ^= UInt8.random(
                in: 1...255, using: &rng)
            Self.check(bytes, reference: reference, strict: true, "zip record \(record.name)", &crc)
        }
        #expect(crc.errors == 100)
        tallies["zip records"] = crc

        // data.pkl mutated behind a valid CRC-32: the pickle reader and the view checks must hold.
        let pickleRecord = try #require(WeightFixtures.records(zip).first { $0.name.hasSuffix("/data.pkl") })
        let opcodes: [UInt8] = [
            0x28, 0x29, 0x4B, 0x4D, 0x4A, 0x51, 0x52, 0x62, 0x68, 0x6A, 0x71, 0x72, 0x74,
            0x75, 0x7D, 0x85, 0x86, 0x88, 0x89, 0x8A, 0x2E, 0x58, 0x63, 0x81,
        ]
        var pickled = Tally()
        for i in 0..<300 {
            var bytes = zip
            for _ in 0...Int.random(in: 0..<3, using: &rng) {
                let at = pickleRecord.start + Int.random(in: 0..<pickleRecord.count, using: &rng)
                bytes[at] =
                    i % 2 == 0
                    ? opcodes[Int.random(in: 0..<opcodes.count, using: &rng)] : UInt8.random(in: 0...255, using: &rng)
            }
            WeightFixtures.fixCRC(&bytes, pickleRecord)
            Self.check(bytes, reference: reference, strict: false, "data.pkl mutation \(i)", &pickled)
        }
        tallies["data.pkl"] = pickled

        // Random bytes, some behind a valid-looking start.
        var random = Tally()
        let prefixes: [[UInt8]] = [[], [0x50, 0x4B, 0x03, 0x04], [0x80, 0x02], [0x10, 0, 0, 0, 0, 0, 0, 0, 0x7B]]
        for i in 0..<100 {
            var bytes = prefixes[i % prefixes.count]
            bytes += (0..<Int.random(in: 0..<600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            Self.check(bytes, reference: StateDict(), strict: false, "random \(i)", &random)
        }
        tallies["random"] = random

        let total = tallies.values.reduce(0) { $0 + $1.total }
        #expect(total >= 1000)
        // Most damage must be detected; a few flips land in bytes nobody reads (zip padding, metadata).
        #expect(tallies["zip"]!.errors > 450)
    }

    /// `DETR_FUZZ_FULL=1`: the same on the shared fixture checkpoints (slow: tens of MB per case).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["DETR_FUZZ_FULL"] == "1"), .needsFixtures)
    func damagedSharedFixturesFailCleanly() throws {
        let fixtures = try TestSupport.fixtures()
        var rng = SplitMix64(seed: 7)
        for name in ["salience_detr/tiny.pth", "conditional_detr/tiny.pth"] {
            let bytes = try [UInt8](Data(contentsOf: fixtures.appendingPathComponent(name)))
            let tally = try Self.fuzz(bytes, strict: true, truncations: 40, flips: 60, rng: &rng, name)
            #expect(tally.total == 100)
        }
    }
}
