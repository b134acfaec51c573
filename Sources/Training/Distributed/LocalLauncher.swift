import Foundation
import Torch

/// Starts the worker processes of a data-parallel run on this machine and watches them, as
/// torchrun does: it runs the rendezvous store itself (so the store outlives any worker and a
/// failing worker can tell which others stopped), gives every worker torchrun's environment
/// variables, and when one worker fails it stops the others and says which rank failed and how.
public struct LocalLauncher: Sendable {
    /// The worker executable and its arguments (the same for every rank).
    public var executable: URL
    public var arguments: [String]
    public var processes: Int
    /// Seconds the store waits for a worker to connect.
    public var timeout: Double
    /// Intra-op threads of each worker (`CTORCH_NUM_THREADS`, unless the environment sets it).
    public var threadsPerProcess: Int
    /// Directories where a stopped worker's temporary files (`.NAME.tmp-<pid>-*`, what
    /// `AtomicFile` writes before renaming) are removed.
    public var outputDirectories: [URL] = []
    /// Seconds the other workers get to stop after SIGTERM before SIGKILL.
    public var grace: Double = 10

    public init(executable: URL, arguments: [String], processes: Int, timeout: Double, threadsPerProcess: Int) {
        self.executable = executable
        self.arguments = arguments
        self.processes = processes
        self.timeout = timeout
        self.threadsPerProcess = threadsPerProcess
    }

    /// How a run of the workers ended.
    public enum Outcome: Sendable, Equatable {
        case succeeded
        /// The first worker that failed, and what happened to it ("exited with status 1",
        /// "was killed by signal 9"); the others were then stopped.
        case failed(rank: Int, reason: String)
    }

    /// Starts the workers and waits until all have exited, or one has failed and the others
    /// were stopped.
    /// - Parameter started: called with the rendezvous port once the workers run
    /// - Throws: when the store or a worker cannot be started
    public func run(started: (Int) -> Void = { _ in }) throws -> Outcome {
        let server = try RendezvousServer(timeout: timeout)
        var env = ProcessInfo.processInfo.environment
        env["WORLD_SIZE"] = "\(processes)"
        env["LOCAL_WORLD_SIZE"] = "\(processes)"
        env["MASTER_ADDR"] = "127.0.0.1"
        env["MASTER_PORT"] = "\(server.port)"
        env["TORCHELASTIC_USE_AGENT_STORE"] = "True"
        env[LocalLauncher.parentVariable] = "\(getpid())"
        if env["CTORCH_NUM_THREADS"] == nil { env["CTORCH_NUM_THREADS"] = "\(threadsPerProcess)" }
        var workers: [Process] = []
        defer {
            // Never leave a worker behind (a throw while starting them).
            for p in workers where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        for rank in 0..<processes {
            let p = Process()
            p.executableURL = executable
            p.arguments = arguments
            var e = env
            e["RANK"] = "\(rank)"
            e["LOCAL_RANK"] = "\(rank)"
            p.environment = e
            try p.run()
            workers.append(p)
        }
        started(server.port)
        var outcome = Outcome.succeeded
        var failed = false
        while workers.contains(where: \.isRunning) && !failed {
            for (rank, p) in workers.enumerated() where !p.isRunning {
                if p.terminationReason == .uncaughtSignal || p.terminationStatus != 0 {
                    outcome = .failed(rank: rank, reason: Self.describe(p))
                    failed = true
                    break
                }
            }
            if !failed { usleep(50_000) }
        }
        if !failed {
            // The last ones may have ended between the checks.
            for (rank, p) in workers.enumerated()
            where p.terminationReason == .uncaughtSignal || p.terminationStatus != 0 {
                outcome = .failed(rank: rank, reason: Self.describe(p))
                failed = true
                break
            }
        }
        if failed { stop(workers) }
        removeTemporaryFiles(of: workers.map(\.processIdentifier))
        return outcome
    }

    /// SIGTERM to the workers still running, SIGKILL to those left after `grace` seconds.
    private func stop(_ workers: [Process]) {
        for p in workers where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while workers.contains(where: \.isRunning) && Date() < deadline { usleep(20_000) }
        for p in workers where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in workers { p.waitUntilExit() }
    }

    private func removeTemporaryFiles(of pids: [Int32]) {
        let fm = FileManager.default
        for dir in outputDirectories {
            for name in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] where name.hasPrefix(".") {
                if pids.contains(where: { name.contains(".tmp-\($0)-") }) {
                    try? fm.removeItem(at: dir.appendingPathComponent(name))
                }
            }
        }
    }

    static func describe(_ p: Process) -> String {
        if p.terminationReason == .uncaughtSignal {
            let s = p.terminationStatus
            let name = strsignal(s).map { String(cString: $0) } ?? "signal \(s)"
            return "was killed by signal \(s) (\(name))"
        }
        return "exited with status \(p.terminationStatus)"
    }

    /// The environment variable naming the launcher's process id: a worker that sees it stops
    /// when the launcher does (`Torch.exitWithParent`).
    public static let parentVariable = "DETR_LAUNCHER_PID"
}
