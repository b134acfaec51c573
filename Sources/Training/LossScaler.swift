import Foundation
import Torch

/// Dynamic loss scaling for float16 mixed-precision training, with the rules of PyTorch's
/// `torch.amp.GradScaler`: the loss is multiplied by `scale` before the backward pass so that
/// small float16 gradients do not flush to zero; the gradients are divided by it again before
/// clipping and the optimizer step. A step whose gradients hold an infinity or NaN is skipped and
/// the scale is multiplied by `backoffFactor`; after `growthInterval` steps in a row without one,
/// it is multiplied by `growthFactor`. Parameters and optimizer state stay float32.
public struct LossScaler: Codable, Equatable, Sendable {
    public var scale: Double = 65536
    public var growthFactor: Double = 2
    public var backoffFactor: Double = 0.5
    public var growthInterval: Int = 2000
    /// Steps in a row whose gradients were finite since the last change of `scale`.
    public var goodSteps: Int = 0

    public init() {}

    /// Divides every gradient of `parameters` by `scale` in place when all are finite.
    /// - Returns: false, leaving the gradients as they are, when one holds an infinity or NaN (one
    ///   number comes to the host for the whole check).
    public func unscale(_ parameters: [Tensor]) -> Bool {
        let grads = parameters.compactMap(\.grad)
        guard !grads.isEmpty else { return true }
        // Any infinity or NaN makes its tensor's sum of x·0 NaN.
        let probe = withNoGrad { Tensor.stack(grads.map { ($0 * 0).sum().to(.float32) }).sum().item() }
        guard probe.isFinite else { return false }
        withNoGrad { for g in grads { g.mul_(1 / scale) } }
        return true
    }

    /// Updates `scale` after a step: backs off when the gradients were not finite, grows after
    /// `growthInterval` finite steps in a row.
    public mutating func update(finite: Bool) {
        if !finite {
            scale *= backoffFactor
            goodSteps = 0
        } else {
            goodSteps += 1
            if goodSteps == growthInterval {
                scale *= growthFactor
                goodSteps = 0
            }
        }
    }

    /// The state as one JSON string with sorted keys (a checkpoint's metadata entry; equal states
    /// give equal bytes).
    public var encoded: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public init(encoded: String) throws {
        self = try JSONDecoder().decode(LossScaler.self, from: Data(encoded.utf8))
    }
}
