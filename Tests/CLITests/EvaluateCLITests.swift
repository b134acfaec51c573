import Foundation
import TestSupport
import Testing

@Suite struct EvaluateCLITests {
    @Test(.needsFixtures) func resultsFileGivesPycocotoolsNumbers() throws {
        let dir = try TestSupport.fixtures("coco_eval")
        let r = try DetrProcess.run([
            "evaluate", "--annotations", dir.appendingPathComponent("gt.json").path,
            "--results", dir.appendingPathComponent("detections.json").path, "--json", "--quiet",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let got = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Double])
        let expected = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("expected.json")))
                as? [String: Any])
        let stats = try #require((expected["default"] as? [String: Any])?["stats"] as? [Double])
        let keys = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
        #expect(stats.count == keys.count)
        for (k, v) in zip(keys, stats) { #expect(abs((got[k] ?? -9) - v) <= 1e-6, "\(k)") }
    }

    @Test func usageAndFileErrors() throws {
        let r = try DetrProcess.run([
            "evaluate", "--annotations", "/nonexistent/gt.json", "--results", "/nonexistent/r.json",
        ])
        #expect(r.status == 1 && r.stderr.contains("/nonexistent/gt.json"))
        let u = try DetrProcess.run(["evaluate", "--annotations", "a.json", "--config", "conditional-detr-r50"])
        #expect(u.status == 64)
    }
}
