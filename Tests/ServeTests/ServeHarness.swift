import AsyncHTTPClient
import Foundation
import NIOCore
import Serving
import TestSupport
import Testing

/// A `DetectionServer` running the demo model in this process on 127.0.0.1 and a free port,
/// and a real HTTP client for it.
final class ServeHarness: Sendable {
    static let demoConfig = TestSupport.repoRoot.appendingPathComponent("demo/shapes-salience.json").path
    static let demoWeights = TestSupport.repoRoot.appendingPathComponent("demo/shapes-salience.safetensors").path
    static let samples: [URL] = (1...6).map {
        TestSupport.repoRoot.appendingPathComponent("demo/samples/shapes-\($0).png")
    }

    let server: DetectionServer
    let port: Int
    let task: Task<Void, Error>

    var base: String { "http://127.0.0.1:\(port)" }

    private init(server: DetectionServer, port: Int, task: Task<Void, Error>) {
        self.server = server
        self.port = port
        self.task = task
    }

    /// Starts a server (port 0 unless `configure` sets one) and waits until it listens and is warm.
    static func start(
        engine: DetectionEngine? = nil, _ configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> ServeHarness {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configure(&configuration)
        let server = try DetectionServer(
            engine: try engine ?? DetectionEngine.load(config: demoConfig, weights: demoWeights),
            configuration: configuration)
        let (events, continuation) = AsyncStream<DetectionServer.Event>.makeStream()
        let task = Task {
            defer { continuation.finish() }
            try await server.run { continuation.yield($0) }
        }
        var port: Int?
        var ready = false
        for await event in events {
            switch event {
            case .listening(_, let p): port = p
            case .ready: ready = true
            case .stopping: break
            }
            if port != nil && ready { break }
        }
        guard let port else {
            try await task.value
            throw ServeError("the server stopped before listening")
        }
        return ServeHarness(server: server, port: port, task: task)
    }

    /// Shuts the server down gracefully and waits for it.
    func stop() async throws {
        await server.shutdown()
        try await task.value
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }

        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        }

        /// The `error` message of a JSON error reply.
        func errorMessage() throws -> String { try #require(try json()["error"] as? String) }
    }

    /// The tests' HTTP client. Behaviour tests wait on results, never on the clock: on two busy
    /// cores one forward of the demo model has taken over 90 s (the shared client's read timeout),
    /// so connect and read wait up to 10 minutes, and 64 connections per host let every request
    /// of a concurrency test be in flight at once (the shared client queues all beyond 8, and
    /// their deadlines then run out in the queue). Tests about timeouts configure the server's
    /// own limits instead.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .minutes(10), read: .minutes(10))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// A generous deadline for waits on a result (see `client`).
    static let patience: TimeAmount = .minutes(10)

    func request(
        _ method: String, _ path: String, body: Data? = nil, headers: [(String, String)] = [],
        timeout: TimeAmount = ServeHarness.patience
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: base + path)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await Self.client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 64 << 20)
        var fields: [String: String] = [:]
        for h in response.headers { fields[h.name.lowercased()] = h.value }
        return Reply(status: Int(response.status.code), headers: fields, body: Data(buffer: bytes))
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> Reply {
        try await request("GET", path, headers: headers)
    }

    func post(_ path: String, _ body: Data, headers: [(String, String)] = []) async throws -> Reply {
        try await request("POST", path, body: body, headers: headers)
    }

    /// A multipart/form-data body with one file field.
    static func multipart(field: String, filename: String, data: Data) -> (body: Data, contentType: String) {
        let boundary = "----detr-test-\(UUID().uuidString)"
        var body = Data()
        body.append(Data("--\(boundary)\r\n".utf8))
        body.append(Data("Content-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8))
        body.append(Data("--\(boundary)\r\n".utf8))
        let disposition = "Content-Disposition: form-data; name=\"\(field)\"; filename=\"\(filename)\"\r\n"
        body.append(Data((disposition + "Content-Type: image/png\r\n\r\n").utf8))
        body.append(data)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        return (body, "multipart/form-data; boundary=\(boundary)")
    }

    /// The value of a metric line (`name{labels} value`) in the Prometheus text, or nil.
    /// Waits (up to 10 minutes) until `detr_queue_depth` reads `depth`: requests sent before are queued.
    func waitForQueueDepth(_ depth: Int) async throws {
        try await waitForMetric("detr_queue_depth", toRead: Double(depth))
    }

    /// Polls `/metrics` until the metric line `name` reads `value`; records an issue after 10
    /// minutes (a deadline for a stalled server, not a measure of speed).
    func waitForMetric(_ name: String, toRead value: Double) async throws {
        let deadline = ContinuousClock.now + .seconds(600)
        while ContinuousClock.now < deadline {
            let text = try await get("/metrics").text
            if Self.metric(name, in: text) == value { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("\(name) never read \(value)")
    }

    static func metric(_ line: String, in text: String) -> Double? {
        for l in text.split(separator: "\n") where l.hasPrefix(line + " ") {
            return Double(l.dropFirst(line.count + 1))
        }
        return nil
    }

    /// The lines of `detr predict --output` for the demo samples: one JSON object per image.
    static func predictLines(threshold: String = "0.3", extra: [String] = []) throws -> [String] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent(
            "serve-predict-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try DetrProcess.run(
            [
                "predict", "--config", demoConfig, "--weights", demoWeights, "--threshold", threshold, "--output",
                out.path,
            ]
                + extra + samples.map(\.path))
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let text = try String(contentsOf: out, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().dropLast().map {
            String($0.hasSuffix(",") ? $0.dropLast() : $0)
        }
    }
}

extension String {
    /// Percent-encoded for a query value.
    var queryEncoded: String { addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? self }
}
