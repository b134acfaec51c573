import Testing
import Torch

@Test func smoke() {
    let a = Tensor([1, 2, 3] as [Float])
    #expect((a * 2).floats == [2, 4, 6])
}
