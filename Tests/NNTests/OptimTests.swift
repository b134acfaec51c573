import Foundation
import NN
import TestSupport
import Testing
import Torch

/// The tiny problem of generate.py: loss = mean((tanh(X w1ᵀ + b1) w3ᵀ - Y)²).
struct TinyProblem {
    let w1: Tensor, b1: Tensor, w3: Tensor

    init() {
        w1 = ref("adamw.in.w1").clone().requiringGrad()
        b1 = ref("adamw.in.b1").clone().requiringGrad()
        w3 = ref("adamw.in.w3").clone().requiringGrad()
    }

    func loss() -> Tensor {
        let h = (ref("adamw.in.X").matmul(w1.transpose(0, 1)) + b1).tanh()
        return (h.matmul(w3.transpose(0, 1)) - ref("adamw.in.Y")).pow(2).mean()
    }

    /// The two parameter groups of generate.py.
    func optimizer() -> AdamW {
        AdamW(
            groups: [
                ParameterGroup(parameters: [("w1", w1), ("b1", b1)], lr: 1e-2, weightDecay: 1e-2),
                ParameterGroup(parameters: [("w3", w3)], lr: 5e-3, weightDecay: 0),
            ],
            betas: (0.9, 0.99), eps: 1e-6)
    }

    func train(_ opt: AdamW, steps: Int, check: ((Int) -> Void)? = nil) {
        for _ in 0..<steps {
            opt.zeroGrad()
            loss().backward()
            opt.step()
            check?(opt.state["w1"]!.step)
        }
    }
}

@Suite struct OptimTests {
    @Test func adamWMatchesPyTorchWithTwoGroups() {
        let problem = TinyProblem()
        let opt = problem.optimizer()
        var worst = 0.0
        problem.train(opt, steps: 5) { step in
            for (name, t) in [("w1", problem.w1), ("b1", problem.b1), ("w3", problem.w3)] {
                let expected = ref("adamw.step\(step).\(name)")
                TestSupport.expectClose(t, expected, atol: 1e-6, "\(name) after step \(step)")
                worst = max(worst, TestSupport.maxAbsDiff(t, expected))
            }
        }
        #expect(worst < 1e-6)
    }

    @Test func resumeFromSavedStateEqualsUninterruptedRun() throws {
        let straight = TinyProblem()
        straight.train(straight.optimizer(), steps: 5)

        // Two steps, then a snapshot of parameters and optimizer state as bytes.
        let resumedFrom = TinyProblem()
        let opt2 = resumedFrom.optimizer()
        resumedFrom.train(opt2, steps: 2)
        let snapshot = opt2.stateDict()
        var params = StateDict()
        for (k, t) in opt2.allParameters { params[k] = t }
        let bytes = try Safetensors.serialize(snapshot.tensors, metadata: snapshot.metadata)
        let paramBytes = try Safetensors.serialize(params)

        // A fresh process: new parameters and optimizer, restored from bytes.
        let resumed = TinyProblem()
        let opt3 = resumed.optimizer()
        opt3.groups[0].lr = 123  // overwritten by the snapshot
        let loadedParams = try Safetensors.read(data: paramBytes).tensors
        withNoGrad {
            for (k, t) in opt3.allParameters { t.copy_(loadedParams[k]!) }
        }
        let contents = try Safetensors.read(data: bytes)
        try opt3.load(OptimizerState(tensors: contents.tensors, metadata: contents.metadata))
        #expect(opt3.groups[0].lr == 1e-2)
        #expect(opt3.state["w3"]?.step == 2)
        resumed.train(opt3, steps: 3)
        for (a, b) in zip([resumed.w1, resumed.b1, resumed.w3], [straight.w1, straight.b1, straight.w3]) {
            #expect(a.floats == b.floats)
        }
    }

    @Test func optimizerStateKeysAndErrors() throws {
        let p = TinyProblem()
        let opt = p.optimizer()
        p.train(opt, steps: 1)
        let s = opt.stateDict()
        #expect(s.tensors.keys.prefix(3) == ["state.w1.exp_avg", "state.w1.exp_avg_sq", "state.w1.step"])
        #expect(s.metadata[AdamW.metadataKey]?.contains("\"AdamW\"") == true)

        let other = AdamW(parameters: [("w1", p.w1)])
        #expect(throws: OptimizerStateError.self) { try other.load(s) }
        var broken = s
        broken.tensors["state.b1.exp_avg"] = Tensor.zeros([7])
        #expect(throws: OptimizerStateError.self) { try p.optimizer().load(broken) }
    }

    @Test(arguments: ["clip", "noclip"])
    func clipGradNormMatchesPyTorch(name: String) {
        let maxNorm = name == "clip" ? 0.5 : 100.0
        let ps = [Tensor.zeros([3, 4]).requiringGrad(), Tensor.zeros([5]).requiringGrad()]
        for (i, p) in ps.enumerated() { p.grad = ref("\(name).in.g\(i)").clone() }
        let total = clipGradNorm(ps, maxNorm: maxNorm)
        #expect(abs(total - ref("\(name).out.total").item()) < 1e-6)
        for (i, p) in ps.enumerated() {
            TestSupport.expectClose(p.grad!, ref("\(name).out.g\(i)"), atol: 1e-7, "clipped grad \(i)")
        }
        if name == "clip" {
            let after = Tensor.stack(ps.map { $0.grad!.norm() }).norm().item()
            #expect(abs(after - maxNorm) < 1e-5)
        }
    }

    /// The training schedule's two parts against PyTorch's `MultiStepLR` and `LinearLR` (the
    /// fixture's `sched.multistep` and `sched.linear`, base 0.1).
    @Test func schedulesMatchPyTorch() {
        func compare(_ name: String, _ lr: (Int) -> Double) {
            let expected = ref("sched.\(name)").toArray(Double.self)
            for (i, e) in expected.enumerated() {
                let g = lr(i)
                #expect(abs(g - e) <= 1e-15 * abs(e) + 1e-18, "\(name) step \(i): \(g) vs \(e)")
            }
        }
        let multistep = TrainingSchedule(milestones: [2, 5, 5], gamma: 0.5)
        compare("multistep") { multistep.lr(baseLR: 0.1, epoch: $0, iteration: 0) }
        let linear = TrainingSchedule(milestones: [], warmupIterations: 5, warmupStartFactor: 0.001)
        compare("linear") { linear.lr(baseLR: 0.1, epoch: 0, iteration: $0) }
    }

    @Test func warmupThenEpochDecay() {
        let s = TrainingSchedule(milestones: [4], gamma: 0.1, warmupIterations: 2, warmupStartFactor: 0.5)
        #expect([0, 1, 2, 3].map { s.lr(baseLR: 1, epoch: 0, iteration: $0) } == [0.5, 0.75, 1, 1])
        #expect(s.lr(baseLR: 1, epoch: 4, iteration: 100) == 0.1)
    }

    @Test func zeroGradKeepsOrRemovesGradients() {
        let p = TinyProblem()
        let opt = p.optimizer()
        p.loss().backward()
        opt.zeroGrad()
        #expect(p.w1.grad?.abs().max().item() == 0)
        opt.zeroGrad(setToNone: true)
        #expect(p.w1.grad == nil)
    }

    @Test func partitionByKey() {
        let model = Composite(ParameterStore().root)
        let groups = ParameterGroup.partition(
            model.namedParameters(), rules: [(matches: { $0.hasPrefix("layers.") }, lr: 1e-5, weightDecay: 1e-4)],
            defaultLR: 1e-4, defaultWeightDecay: 1e-4)
        #expect(groups.count == 2 && groups[0].parameters.count == 24)
        #expect(groups[1].parameters.count == model.namedParameters().count - 24)
    }
}
