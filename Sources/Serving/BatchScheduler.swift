import Detection
import Foundation
import Vision

/// Queues prepared images and runs them in micro-batches on one worker thread.
///
/// The oldest waiting request opens a batch; requests with the same `BatchKey` that arrive
/// within `maxWait` of it (or are already waiting) join it, up to `maxBatch` images, and the
/// batch runs as one forward. Requests with another key wait for a later batch, so no image is
/// ever padded beyond its size alone. A request whose task is cancelled before its batch starts
/// (its caller gave up) is removed and never computed. Forwards run on a thread of their
/// own, not on Swift concurrency's cooperative pool, which stays free for I/O.
public final class BatchScheduler: @unchecked Sendable {
    /// Why a request was not run.
    public enum Rejection: Error, Equatable {
        /// The queue holds `capacity` requests already.
        case queueFull(capacity: Int)
        /// The scheduler is stopping.
        case stopping
    }

    /// What the scheduler reports as it works (called on the worker thread or the submitter's).
    public struct Observer: Sendable {
        public var queueDepth: @Sendable (Int) -> Void = { _ in }
        /// Images in a forward and the forward's duration (including post-processing).
        public var batchRan: @Sendable (Int, Duration) -> Void = { _, _ in }
        /// A request removed because its client went away before its batch started.
        public var cancelled: @Sendable () -> Void = {}
        public init() {}
    }

    struct Job {
        var id: UInt64
        var image: PreparedImage
        var options: DetectionOptions
        var enqueued: ContinuousClock.Instant
        var continuation: CheckedContinuation<[DetectedObject], Error>
    }

    private let engine: DetectionEngine
    private let maxBatch: Int
    private let maxWait: Duration
    private let capacity: Int
    private let observer: Observer
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var nextID: UInt64 = 0
    private var stopping = false
    private var ready = false
    private var worker: Thread?
    private let finished = DispatchSemaphore(value: 0)
    private let clock = ContinuousClock()

    public init(engine: DetectionEngine, maxBatch: Int, maxWait: Duration, capacity: Int, observer: Observer = .init())
    {
        self.engine = engine
        self.maxBatch = maxBatch
        self.maxWait = maxWait
        self.capacity = capacity
        self.observer = observer
    }

    /// Whether the warm-up forward has finished.
    public var isReady: Bool {
        condition.lock()
        defer { condition.unlock() }
        return ready
    }

    /// Requests waiting for a forward.
    public var queueDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return pending.count
    }

    /// Starts the worker thread; it first runs the engine's warm-up (`onWarm` gets its error, if any).
    public func start(onWarm: @escaping @Sendable (Error?) -> Void = { _ in }) {
        let thread = Thread { [self] in
            var warmError: Error?
            do { try engine.warmUp() } catch { warmError = error }
            condition.lock()
            ready = true
            condition.unlock()
            onWarm(warmError)
            work()
            finished.signal()
        }
        thread.name = "detr-batches"
        thread.stackSize = 16 << 20
        worker = thread
        thread.start()
    }

    /// Stops taking requests, runs those already queued, and returns when the worker has ended.
    public func stop() {
        condition.lock()
        let started = worker != nil && !stopping
        stopping = true
        condition.broadcast()
        condition.unlock()
        if started { finished.wait() }
    }

    /// The detections of one image, computed in some batch.
    /// - Throws: `Rejection` when the queue is full or the scheduler stops, `CancellationError`
    ///   when the task is cancelled before its batch starts, errors of the forward
    public func submit(_ image: PreparedImage, options: DetectionOptions) async throws -> [DetectedObject] {
        let id = condition.withLock {
            nextID += 1
            return nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                condition.lock()
                defer { condition.unlock() }
                // Cancellation sets the flag before its handler runs, and the handler takes the lock:
                // either it finds the job queued, or the job is never queued.
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else if stopping {
                    continuation.resume(throwing: Rejection.stopping)
                } else if pending.count >= capacity {
                    continuation.resume(throwing: Rejection.queueFull(capacity: capacity))
                } else {
                    pending.append(
                        Job(
                            id: id, image: image, options: options, enqueued: clock.now,
                            continuation: continuation))
                    observer.queueDepth(pending.count)
                    condition.broadcast()
                }
            }
        } onCancel: {
            condition.lock()
            let index = pending.firstIndex { $0.id == id }
            let job = index.map { pending.remove(at: $0) }
            if job != nil { observer.queueDepth(pending.count) }
            condition.unlock()
            if let job {
                observer.cancelled()
                job.continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// The worker: waits for a batch to fill or its time to run out, runs it, repeats; after
    /// `stop()` it runs what is queued and returns.
    private func work() {
        while let batch = nextBatch() {
            let started = clock.now
            do {
                let results = try engine.detect(batch.map(\.image), options: batch.map(\.options))
                observer.batchRan(batch.count, clock.now - started)
                for (job, result) in zip(batch, results) { job.continuation.resume(returning: result) }
            } catch {
                for job in batch { job.continuation.resume(throwing: error) }
            }
        }
    }

    /// The next batch, or nil once stopping with nothing queued.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            while pending.isEmpty {
                if stopping { return nil }
                condition.wait()
            }
            let first = pending[0]
            let deadline = first.enqueued + maxWait
            // Wait for the batch to fill, for its time to run out, or for the oldest job to go.
            while !stopping, pending.first?.id == first.id,
                pending.lazy.filter({ $0.batchKey == first.image.batchKey }).count < maxBatch
            {
                let left = deadline - clock.now
                if left <= .zero { break }
                let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) * 1e-18
                _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
            }
            guard pending.first?.id == first.id else { continue }  // cancelled meanwhile
            var batch: [Job] = []
            var rest: [Job] = []
            for job in pending {
                if batch.count < maxBatch && job.image.batchKey == first.image.batchKey {
                    batch.append(job)
                } else {
                    rest.append(job)
                }
            }
            pending = rest
            observer.queueDepth(pending.count)
            return batch
        }
    }
}

extension BatchScheduler.Job {
    fileprivate var batchKey: BatchKey { image.batchKey }
}
