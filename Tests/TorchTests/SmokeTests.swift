import Foundation
import Testing
import TestSupport
import Torch

@Test func smoke() throws {
    let a = Tensor([1, 2, 3] as [Float])
    #expect((a * 2).floats == [2, 4, 6])
    guard TestSupport.fixturesAvailable() else { return }
    let c = try Safetensors.read(contentsOf: TestSupport.sharedFixtures!.appendingPathComponent("salience_detr/tiny_eval.safetensors"))
    #expect(c.tensors["pre.batch"]?.shape == [2, 3, 192, 192])
    #expect(throws: TorchError.self) { try Torch.catching { _ = a.matmul(Tensor.ones([4, 4])) } }
}
