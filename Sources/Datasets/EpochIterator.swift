import Foundation

/// The batches of one epoch, in order, made by the loader's worker threads ahead of the
/// consumer (at most `prefetch` batches waiting or in progress, so memory stays flat).
///
/// Not thread-safe itself: one consumer calls `next()`. Releasing the iterator early stops the
/// workers after their current batch.
public final class EpochIterator {
    public let epoch: Int
    /// Dataset indices of every batch of the epoch (including those before `start`).
    public let plan: [[Int]]
    /// Images left out under `UnreadableImagePolicy.skip` so far, in batch order.
    public private(set) var skippedImages: [TrainingDataError] = []

    private let loader: DataLoader
    private let state: PrefetchState
    private var nextIndex: Int
    private var finished = false

    init(loader: DataLoader, epoch: Int, plan: [[Int]], start: Int) {
        self.loader = loader
        self.epoch = epoch
        self.plan = plan
        self.nextIndex = min(max(start, 0), plan.count)
        self.state = PrefetchState(first: nextIndex, end: plan.count, window: max(loader.prefetch, loader.workers))
        for _ in 0..<min(loader.workers, plan.count - nextIndex) {
            let state = self.state, loader = self.loader
            let thread = Thread { state.work(loader: loader, plan: plan, epoch: epoch) }
            thread.stackSize = 4 << 20
            thread.name = "detr-data"
            thread.start()
        }
    }

    deinit { state.cancel() }

    /// Number of batches still to come (at most; batches whose images were all skipped are not yielded).
    public var remaining: Int { finished ? 0 : plan.count - nextIndex }

    /// The next batch, or nil at the end of the epoch.
    /// - Throws: the first error of a batch (e.g. `TrainingDataError.unreadableImage` under
    ///   `.fail`); the iterator is finished afterwards.
    public func next() throws -> TrainingBatch? {
        while !finished && nextIndex < plan.count {
            let k = nextIndex
            let result: Result<(TrainingBatch?, [TrainingDataError]), Error>
            if loader.workers == 0 {
                result = Result { try loader.makeBatch(plan[k], number: k, epoch: epoch) }
            } else {
                result = state.take(k)
            }
            nextIndex += 1
            switch result {
            case .success(let (batch, skipped)):
                skippedImages += skipped
                if let batch { return batch }
            case .failure(let error):
                finished = true
                state.cancel()
                throw error
            }
        }
        finished = true
        return nil
    }
}

/// The hand-over between workers and the consumer: workers claim batch numbers in order while
/// they are within `window` of the consumer, and park results by number; the consumer takes them
/// in order. Guarded by one condition variable.
final class PrefetchState: @unchecked Sendable {
    typealias Made = Result<(TrainingBatch?, [TrainingDataError]), Error>

    private let condition = NSCondition()
    private var nextToClaim: Int
    private var consumerAt: Int
    private let end: Int
    private let window: Int
    private var results: [Int: Made] = [:]
    private var cancelled = false

    init(first: Int, end: Int, window: Int) {
        self.nextToClaim = first
        self.consumerAt = first
        self.end = end
        self.window = window
    }

    /// A worker thread's loop: claim, make, deliver, until the plan is done or cancelled.
    func work(loader: DataLoader, plan: [[Int]], epoch: Int) {
        condition.lock()
        while !cancelled && nextToClaim < end {
            guard nextToClaim < consumerAt + window else {
                condition.wait()
                continue
            }
            let k = nextToClaim
            nextToClaim += 1
            condition.unlock()
            let made: Made = Result { try loader.makeBatch(plan[k], number: k, epoch: epoch) }
            condition.lock()
            if !cancelled { results[k] = made }
            condition.broadcast()
        }
        condition.unlock()
    }

    /// Waits for batch `k` (the consumer's next) and removes it.
    func take(_ k: Int) -> Made {
        condition.lock()
        defer { condition.unlock() }
        while results[k] == nil { condition.wait() }
        consumerAt = k + 1
        condition.broadcast()  // the window moved: idle workers may claim more
        return results.removeValue(forKey: k)!
    }

    /// Stops the workers after their current batch and drops parked results.
    func cancel() {
        condition.lock()
        cancelled = true
        results.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
