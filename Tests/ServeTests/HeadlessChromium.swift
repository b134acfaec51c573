import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A headless Chromium driven over the DevTools protocol on a pipe: started with
/// `--remote-debugging-pipe`, the browser reads NUL-terminated JSON commands on its fd 3 and writes
/// NUL-terminated replies and events on its fd 4. No WebSocket client is needed.
///
/// Calls block the calling thread (the browser answers in milliseconds to seconds); `call` runs
/// them on a Dispatch queue so that an in-process server keeps Swift concurrency's threads.
final class HeadlessChromium: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The browser to use: `DETR_CHROMIUM`, else the first of chromium, chromium-browser,
    /// google-chrome on PATH; nil when there is none.
    static var executable: String? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["DETR_CHROMIUM"], !path.isEmpty { return path }
        for dir in (environment["PATH"] ?? "").split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let path = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        return nil
    }

    private let pid: pid_t
    private let commands: Int32
    private let replies: Int32
    private let profile: URL
    private var nextId = 0
    private var pending: [UInt8] = []
    private let queue = DispatchQueue(label: "headless-chromium")

    /// Starts the browser with a fresh profile and a window of `width` x `height` CSS pixels at
    /// device scale 1 (one screenshot pixel per CSS pixel).
    init(executable: String, width: Int = 1000, height: Int = 1000) throws {
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("detr-chromium-\(UUID().uuidString)")
        var toBrowser: [Int32] = [0, 0]
        var fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw Failure(description: "pipe() failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        let devNull = "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, devNull, O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, devNull, O_WRONLY, 0)
        let arguments = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
            "--no-first-run", "--no-default-browser-check", "--force-device-scale-factor=1",
            "--hide-scrollbars", "--window-size=\(width),\(height)", "--user-data-dir=\(profile.path)", "about:blank",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(toBrowser[0])
        close(fromBrowser[1])
        guard status == 0 else {
            close(toBrowser[1])
            close(fromBrowser[0])
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
        commands = toBrowser[1]
        replies = fromBrowser[0]
        signal(SIGPIPE, SIG_IGN)
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(commands)
        close(replies)
        try? FileManager.default.removeItem(at: profile)
    }

    /// Sends a command (to the browser, or to a page's `session`) and returns its result; throws
    /// the protocol's error message, or after `timeout` seconds without the reply.
    func call(
        _ method: String, _ params: [String: Any] = [:], session: String? = nil, timeout: Double = 60
    ) async throws -> [String: Any] {
        let message = UncheckedBox((method, params, session))
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(
                    with: Result {
                        UncheckedBox(
                            try self.send(
                                message.value.0, message.value.1, session: message.value.2, timeout: timeout))
                    })
            }
        }.value
    }

    /// Evaluates a JavaScript expression in the page and returns its JSON value.
    func evaluate(_ expression: String, session: String) async throws -> Any? {
        let reply = try await call(
            "Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true],
            session: session)
        if let exception = reply["exceptionDetails"] as? [String: Any] {
            throw Failure(description: "\(expression): \(exception["text"] ?? exception)")
        }
        return (reply["result"] as? [String: Any])?["value"]
    }

    /// Opens `url` in a new page and returns the page's session id.
    func open(_ url: String) async throws -> String {
        let target = try await call("Target.createTarget", ["url": url])
        guard let targetId = target["targetId"] as? String else { throw Failure(description: "no target id") }
        let attached = try await call("Target.attachToTarget", ["targetId": targetId, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw Failure(description: "no session id") }
        return session
    }

    private func send(
        _ method: String, _ params: [String: Any], session: String?, timeout: Double
    ) throws
        -> [String: Any]
    {
        nextId += 1
        let id = nextId
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if let session { message["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "\(method): the browser closed its pipe") }
            written += n
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            while let end = pending.firstIndex(of: 0) {
                let data = Data(pending[..<end])
                pending.removeSubrange(...end)
                guard let reply = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                    reply["id"] as? Int == id
                else { continue }  // an event, or a reply to an earlier command
                if let error = reply["error"] as? [String: Any] {
                    throw Failure(description: "\(method): \(error["message"] ?? error)")
                }
                return reply["result"] as? [String: Any] ?? [:]
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw Failure(description: "\(method): no reply within \(timeout) s") }
            var poller = pollfd(fd: replies, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(min(left, 1) * 1000)) >= 0 else { continue }
            guard poller.revents != 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { read(replies, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "\(method): the browser exited") }
            pending.append(contentsOf: chunk[..<n])
        }
    }
}

/// Carries a non-Sendable value across a Dispatch hop that hands it over exactly once.
private struct UncheckedBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
