import Foundation
import ServiceLifecycle

/// The batch scheduler as one of the application's services. Its worker (the warm-up forward
/// first) starts once the HTTP server listens, so a port that cannot be bound ends the run before
/// any model work. At a graceful shutdown it stops after the HTTP server: an application's
/// services shut down in reverse order, and Hummingbird runs the server after the services added
/// to it, so the requests in flight have finished and what is queued still runs.
struct SchedulerService: Service {
    let scheduler: BatchScheduler
    /// Yields once the server listens.
    let listening: AsyncStream<Void>
    let onReady: @Sendable (Error?) -> Void

    func run() async throws {
        let bound = await cancelWhenGracefulShutdown { [listening] in
            var iterator = listening.makeAsyncIterator()
            return await iterator.next() != nil
        }
        guard bound else { return }
        scheduler.start(onWarm: onReady)
        do { try await gracefulShutdown() } catch {}
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            // `stop` waits for the worker thread: off Swift concurrency's pool.
            DispatchQueue.global().async { [scheduler] in
                scheduler.stop()
                done.resume()
            }
        }
    }
}

/// Reports the start of a graceful shutdown, when it starts. Placed after the application in the
/// service group, so it is the first service to hear of it (and says nothing when the group ends
/// for another reason, such as a port that cannot be bound).
struct ShutdownNotice: Service {
    let onShutdown: @Sendable () -> Void

    func run() async throws {
        do {
            try await gracefulShutdown()
            onShutdown()
        } catch {}
    }
}
