import TestSupport
import Testing
import Torch

/// Loss functions against `torch.nn.functional` (all reductions).
@Suite struct OpsLossTests {
    @Test func binaryCrossEntropy() throws {
        let logits = try Ref.get("loss.logits"), hard = try Ref.get("loss.hard"), soft = try Ref.get("loss.soft")
        let w = try Ref.get("loss.w")
        try check(Functional.binaryCrossEntropyWithLogits(logits, hard), "loss.bce_logits_mean")
        try check(Functional.binaryCrossEntropyWithLogits(logits, hard, reduction: .sum), "loss.bce_logits_sum")
        try check(Functional.binaryCrossEntropyWithLogits(logits, soft, reduction: .none), "loss.bce_logits_none")
        try check(Functional.binaryCrossEntropyWithLogits(logits, soft, weight: w), "loss.bce_logits_weight")
        // Large logits: the log-sum-exp form stays finite where log(sigmoid) would not.
        try check(
            Functional.binaryCrossEntropyWithLogits(logits * 40, hard, reduction: .none),
            "loss.bce_logits_big")
        try check(Functional.binaryCrossEntropy(logits.sigmoid(), soft), "loss.bce_mean")
    }

    @Test func regressionLosses() throws {
        let x = try Ref.get("loss.logits"), t = try Ref.get("loss.target")
        try check(Functional.l1Loss(x, t), "loss.l1_mean")
        try check(Functional.l1Loss(x, t, reduction: .sum), "loss.l1_sum")
        try check(Functional.l1Loss(x, t, reduction: .none), "loss.l1_none")
        try check(Functional.mseLoss(x, t), "loss.mse_mean")
        try check(Functional.smoothL1Loss(x, t, beta: 0.5), "loss.smooth_l1_b05")
        try check(Functional.smoothL1Loss(x, t, reduction: .sum), "loss.smooth_l1_sum")
    }

    @Test func crossEntropy() throws {
        let logits = try Ref.get("loss.logits"), cls = try Ref.get("loss.ce.cls"), w = try Ref.get("loss.w")
        try check(Functional.crossEntropy(logits, cls), "loss.ce_mean")  // -100 is ignored
        try check(Functional.crossEntropy(logits, cls, weight: w), "loss.ce_weight")
        try check(Functional.crossEntropy(logits, cls, reduction: .none), "loss.ce_none")
        try check(Functional.crossEntropy(Ref.get("loss.ce4d.logits"), Ref.get("loss.ce4d.cls")), "loss.ce4d")
        try check(Functional.crossEntropy(logits[0], cls[0]), "loss.ce_unbatched")  // [C] and a 0-dim class
    }
}
