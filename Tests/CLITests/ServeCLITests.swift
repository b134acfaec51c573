import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `detr serve` as a process: it refuses a public bind without a key, and SIGTERM/SIGINT let the
/// request in flight finish before it exits 0.
@Suite(.serialized) struct ServeCLITests {
    static let config = TestSupport.repoRoot.appendingPathComponent("demo/shapes-salience.json").path
    static let weights = TestSupport.repoRoot.appendingPathComponent("demo/shapes-salience.safetensors").path
    static let sample = TestSupport.repoRoot.appendingPathComponent("demo/samples/shapes-1.png")

    @Test func publicBindNeedsAKey() throws {
        let r = try DetrProcess.run(["serve", "--config", Self.config, "--weights", Self.weights, "--host", "0.0.0.0"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--api-key"), "\(r.stderr)")
    }

    /// Starts the server, waits for its "listening" line and returns the process and port.
    static func startServer(_ extra: [String]) throws -> (Process, Int, Pipe) {
        let p = Process()
        p.executableURL = DetrProcess.executable
        p.arguments = ["serve", "--config", config, "--weights", weights, "--port", "0"] + extra
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var text = ""
        let deadline = Date().addingTimeInterval(600)  // a stalled server, not a slow one
        while Date() < deadline {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)/"#, options: .regularExpression),
                text.contains("model ready")
            {
                let port = Int(text[range].split(separator: ":").last!.dropLast())!
                return (p, port, err)
            }
        }
        p.terminate()
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no listening line: \(text)"])
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func signalFinishesInFlightThenExitsZero(signal: Int32) async throws {
        let (process, port, err) = try Self.startServer(["--max-wait-ms", "1500", "--max-batch", "4"])
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/detect")!)
        request.httpMethod = "POST"
        request.httpBody = try Data(contentsOf: Self.sample)
        request.timeoutInterval = 600
        let done = Flag()
        let reply = Task {
            defer { done.set() }
            return try await URLSession.shared.data(for: request)
        }
        // Signal once the request waits in the queue for its batch (max-wait 1.5 s), or — on a
        // machine too busy to see that window — once it has been answered. The metrics are polled
        // on a session of their own, so the poll never waits behind the detection request.
        let metrics = URL(string: "http://127.0.0.1:\(port)/metrics")!
        let poller = URLSession(configuration: .ephemeral)
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline, !done.isSet {
            let (text, _) = try await poller.data(from: metrics)
            if String(decoding: text, as: UTF8.self).split(separator: "\n").contains(where: {
                $0.hasPrefix("detr_queue_depth ") && !$0.hasSuffix(" 0") && !$0.hasSuffix(" 0.0")
            }) {
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(process.processIdentifier, signal)
        let (body, response) = try await reply.value
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("\"detections\""))
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let rest = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(rest.contains("stopping") && rest.contains("stopped"), "\(rest)")
    }
}

/// A flag one task sets and another reads.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
