import Foundation
import TestSupport
import Testing
import Torch

/// `detr inspect` run as a subprocess: its JSON listing equals the recorded `tiny.weights.json`.
@Suite struct InspectCLITests {
    struct Listing: Decodable {
        struct Tensor: Decodable {
            var name: String
            var dtype: String
            var shape: [Int]
            var sha256: String?
        }
        struct Other: Decodable {
            var key: String
            var summary: String
        }
        var tensors: [Tensor]
        var other: [Other]?
    }

    @Test(.needsFixtures, arguments: ["salience_detr", "conditional_detr"])
    func jsonChecksumsMatchRecordedWeights(_ model: String) throws {
        let dir = try TestSupport.fixtures(model)
        let r = try DetrProcess.run(["inspect", dir.appendingPathComponent("tiny.pth").path, "--json", "--checksums"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let listing = try JSONDecoder().decode(Listing.self, from: Data(r.stdout.utf8))
        let expected = try JSONDecoder().decode(
            Listing.self, from: Data(contentsOf: dir.appendingPathComponent("tiny.weights.json")))
        #expect(listing.tensors.count == expected.tensors.count)
        #expect(listing.tensors.map(\.name) == expected.tensors.map(\.name))
        #expect(listing.tensors.map(\.dtype) == expected.tensors.map(\.dtype))
        #expect(listing.tensors.map(\.shape) == expected.tensors.map(\.shape))
        #expect(listing.tensors.map(\.sha256) == expected.tensors.map(\.sha256))
        if model == "conditional_detr" {
            let info = try TestSupport.fixtureJSON("\(model)/tiny.json")
            let epoch = try #require((info["reload_check"] as? [String: Any])?["epoch"] as? Int)
            #expect(listing.other?.map(\.key) == ["args", "epoch"])
            #expect(listing.other?.last?.summary == "int \(epoch)")
        }
    }

    @Test func textListingWithoutChecksums() throws {
        let file = TestSupport.localFixture("weights/checkpoint_zip.pth").path
        let r = try DetrProcess.run(["inspect", file])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "\(file): pytorch-zip, 7 tensors, state dict from checkpoint entry 'model'")
        #expect(lines.contains { $0.hasPrefix("0.weight ") && $0.hasSuffix("float32  [3, 4]") })
        #expect(lines.contains("other entries:"))
        #expect(lines.contains { $0.contains("args") && $0.hasSuffix("argparse.Namespace with 6 attributes") })
        #expect(!r.stdout.contains("sha256"))
        let json = try DetrProcess.run(["inspect", file, "--json"])
        let listing = try JSONDecoder().decode(Listing.self, from: Data(json.stdout.utf8))
        #expect(listing.tensors.count == 7)
        #expect(listing.tensors.allSatisfy { $0.sha256 == nil })
    }

    @Test func unusableFileIsOneLineAndExitCode1() throws {
        let missing = "/nonexistent/weights.pth"
        let r = try DetrProcess.run(["inspect", missing])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("\(missing): does not exist"), "\(r.stderr)")

        let damaged = TestSupport.localFixture("weights/bad_compressed_zip.pth").path
        let d = try DetrProcess.run(["inspect", damaged, "--json"])
        #expect(d.status == 1)
        #expect(d.stderr.split(separator: "\n").count == 1)
        #expect(d.stderr.contains("\(damaged): record tensors_zip/data.pkl is compressed"), "\(d.stderr)")
    }

    @Test func missingArgumentIsAUsageError() throws {
        let r = try DetrProcess.run(["inspect"])
        #expect(r.status == 64)
    }
}
