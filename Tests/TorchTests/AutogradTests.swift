import TestSupport
import Testing
import Torch

/// Autograd API semantics and gradients of every autograd-facing op against PyTorch's.
@Suite struct AutogradTests {
    /// Output and `d(out * w).sum() / d input` equal PyTorch's (float32).
    @Test(arguments: GradCase.all)
    func gradientsMatchPyTorch(_ c: GradCase) throws {
        let x = c.leaves(try c.inputs())
        let out = c.fn(x)
        try check(out, "grad.\(c.name).out", atol: c.atol)
        #expect(out.requiresGrad)
        try (out * Ref.get("grad.\(c.name).w")).sum().backward()
        for k in c.wrt {
            guard let g = x[k].grad else {
                Issue.record("\(c.name): no gradient for \(k)")
                continue
            }
            try check(g, "grad.\(c.name).d.\(k)", atol: c.atol)
        }
    }

    @Test func everyReferenceCaseHasASwiftCase() throws {
        let stored = Set(try Ref.names(withPrefix: "grad.").map { String($0.split(separator: ".")[1]) })
        #expect(stored == Set(GradCase.all.map(\.name)))
    }

    @Test func leavesBackwardAndAccumulation() {
        let x = Tensor([1, -2, 3] as [Float])
        #expect(!x.requiresGrad && x.isLeaf && x.grad == nil)
        x.requiresGrad = true
        let y = x * x
        #expect(y.requiresGrad && !y.isLeaf)
        y.sum().backward()
        #expect(x.grad?.floats == [2, -4, 6])
        (x * 3).sum().backward()  // accumulates
        #expect(x.grad?.floats == [5, -1, 9])
        x.grad = nil
        #expect(x.grad == nil)
        x.grad = Tensor([1, 1, 1] as [Float])
        (x * 2).sum().backward()
        #expect(x.grad?.floats == [3, 3, 3])
    }

    @Test func backwardWithGradientAndRetainedGraph() {
        let x = Tensor([1, 2] as [Float]).requiringGrad()
        let y = x * x * x  // non-scalar: needs a gradient
        y.backward(gradient: Tensor([1, 0.5] as [Float]), retainGraph: true)
        #expect(x.grad?.floats == [3, 6])
        y.backward(gradient: Tensor([1, 1] as [Float]))  // graph kept by the first call
        #expect(x.grad?.floats == [6, 18])
    }

    @Test func detachAndNoGrad() throws {
        let x = Tensor([1, 2] as [Float]).requiringGrad()
        let y = x * 2
        let d = y.detach()
        #expect(!d.requiresGrad && d.isLeaf && d.floats == [2, 4])
        withNoGrad {
            #expect(!(x * 2).requiresGrad)
            withGrad { #expect((x * 2).requiresGrad) }
            #expect(!(x * 2).requiresGrad)
            x.sub_(Tensor([1, 1] as [Float]))  // optimizer-style in-place update of a leaf
        }
        #expect((x * 2).requiresGrad)
        #expect(x.floats == [0, 1] && x.isLeaf)
        struct Boom: Error {}
        #expect(throws: Boom.self) { try withNoGrad { throw Boom() } }
        #expect((x * 2).requiresGrad, "grad mode restored after a throwing body")
    }

    @Test func gradientsOfWithRespectTo() {
        let x = Tensor([1, 2, 3] as [Double]).requiringGrad()
        let w = Tensor([0.5, -1, 2] as [Double]).requiringGrad()
        let y = (x * x * w).sum()
        let g = gradients(of: [y], withRespectTo: [x, w])
        #expect(g[0].toArray(Double.self) == [1, -4, 12])  // 2 x w
        #expect(g[1].toArray(Double.self) == [1, 4, 9])  // x^2
        #expect(x.grad == nil, "autograd.grad does not accumulate into .grad")

        // Non-scalar outputs with explicit output gradients.
        let v = gradients(of: [x * 3], withRespectTo: [x], gradOutputs: [Tensor([1, 2, 3] as [Double])])
        #expect(v[0].toArray(Double.self) == [3, 6, 9])

        // Second derivatives through createGraph: d2/dx2 sum(x^3) = 6x.
        let g1 = gradients(of: [x.pow(3).sum()], withRespectTo: [x], createGraph: true)[0]
        #expect(g1.requiresGrad)
        let g2 = gradients(of: [g1.sum()], withRespectTo: [x])[0]
        #expect(g2.toArray(Double.self) == [6, 12, 18])
    }
}
