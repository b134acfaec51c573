import Foundation
import TestSupport
import Testing
import Torch

@Test func smoke() throws {
    let a = Tensor([1, 2, 3] as [Float])
    #expect((a * 2).floats == [2, 4, 6])
    #expect(throws: TorchError.self) { try Torch.catching { _ = a.matmul(Tensor.ones([4, 4])) } }
}

/// A shared fixture file reads with the batch shape its generator recorded in `tiny.json`.
@Test(.needsFixtures) func smokeSharedFixture() throws {
    let t = try TestSupport.fixtureTensors("salience_detr/tiny_eval.safetensors")
    let info = try TestSupport.fixtureJSON("salience_detr/tiny.json")
    let batchShape = try #require((info["eval"] as? [String: Any])?["batch_shape"] as? [Int])
    #expect(t["pre.batch"]?.shape == batchShape)
}
