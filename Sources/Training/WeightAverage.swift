import Detection
import Foundation
import NN
import Torch

/// An exponential moving average of a model's weights (`--ema-decay`), updated after every
/// optimizer step in float32: `average = d · average + (1 − d) · weight` for every parameter and
/// floating-point buffer (the official `ExponentialMovingAverage`, an `AveragedModel` with
/// `use_buffers=True`); integer buffers are copied.
///
/// The decay warms up as D-FINE's and DEIM's `ModelEMA` do: `d = decay · (1 − exp(−updates / tau))`
/// (tau 2000 there), so the first updates follow the weights closely; `tau` 0 uses `decay` from
/// the first update on, as the official class does. Data-parallel processes take identical
/// optimizer steps, so each holds the same average without communicating.
public final class WeightAverage {
    public let decay: Double
    public let tau: Double
    /// Updates so far (part of the checkpoint).
    public private(set) var updates = 0
    /// The averages by state-dict key, beside the model's live tensors they follow.
    private let entries: [(key: String, average: Tensor, live: Tensor)]

    /// Starts the average at the model's current weights.
    public init(model: any Detector, decay: Double, tau: Double) {
        precondition((0..<1).contains(decay) && tau >= 0, "WeightAverage: decay in [0, 1), tau >= 0")
        self.decay = decay
        self.tau = tau
        entries = withNoGrad {
            model.stateDict().map { key, live in
                (key, live.dtype.isFloatingPoint ? live.to(.float32).clone() : live.clone(), live)
            }
        }
    }

    /// The decay of the next update.
    public var currentDecay: Double {
        tau > 0 ? decay * (1 - exp(-Double(updates + 1) / tau)) : decay
    }

    /// Moves the average one step towards the model's weights.
    public func update() {
        let d = currentDecay
        withNoGrad {
            for e in entries {
                if e.average.dtype.isFloatingPoint {
                    e.average.mul_(d).add_(e.live.to(.float32), alpha: 1 - d)
                } else {
                    e.average.copy_(e.live)
                }
            }
        }
        updates += 1
    }

    /// The averaged weights as a state dict (keys of the model's).
    public var stateDict: StateDict { StateDict(entries.map { ($0.key, $0.average) }) }

    /// Starts the average again at the model's current weights (a resume from a checkpoint
    /// written without one).
    public func reset() {
        withNoGrad {
            for e in entries { e.average.copy_(e.live) }
        }
        updates = 0
    }

    /// Restores averages written by `stateDict` (a checkpoint's), after `updates` updates.
    /// - Throws: `FileError` naming `source` when a key is missing or a shape differs
    public func restore(_ dict: StateDict, updates: Int, source: String) throws {
        for e in entries {
            guard let saved = dict[e.key], saved.shape == e.average.shape else {
                throw FileError(file: source, problem: "its weight average lacks or misshapes '\(e.key)'")
            }
            withNoGrad { _ = e.average.copy_(saved) }
        }
        self.updates = updates
    }
}
