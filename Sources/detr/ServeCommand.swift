import ArgumentParser
import Detection
import Foundation
import NN
import Serving
import Torch
import UnixSignals

/// `detr serve`: an HTTP detection service (see `DetectionServer` for the endpoints).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve detections over HTTP.",
        discussion: """
            POST /v1/detect takes a JPEG or PNG (raw body or multipart field "image"; query threshold, top_k, \
            draw=1 for the annotated PNG) and answers the record `detr predict` writes for it. GET /v1/model, \
            /healthz, /readyz, /metrics (Prometheus), and / (a page to try it in a browser). Requests that arrive \
            within --max-wait-ms of each other run as one forward of up to --max-batch images of the same resized \
            size, each with the result it has alone up to float rounding (--max-batch 1: bitwise). SIGTERM or \
            SIGINT stops accepting, finishes the \
            requests in flight and exits 0. Binding to an address other than loopback needs --api-key (then every \
            endpoint but /healthz needs "Authorization: Bearer KEY") or --insecure.
            """)

    @OptionGroup var model: ModelOptions

    @Flag(
        name: .customLong("random-weights"),
        help: "Serve a freshly initialised model without a checkpoint (for load tests of a model's speed).")
    var randomWeights = false

    @Option(help: "Address to bind.")
    var host = Self.defaults.host

    @Option(parsing: .unconditional, help: "Port to bind (0: any free port).")
    var port = Self.defaults.port

    @Option(name: .customLong("max-batch"), parsing: .unconditional, help: "At most this many images per forward.")
    var maxBatch = Self.defaults.maxBatch

    @Option(
        name: .customLong("max-wait-ms"), parsing: .unconditional,
        help: "How long a request waits for others to join its batch.")
    var maxWaitMs = Self.seconds(Self.defaults.maxWait) * 1000

    @Option(parsing: .unconditional, help: "Requests waiting beyond this many are answered 503 with Retry-After.")
    var queue = Self.defaults.queueCapacity

    @Option(parsing: .unconditional, help: "The score threshold of requests that give none.")
    var threshold = Self.defaults.threshold

    @Option(
        name: .customLong("api-key"),
        help: "A bearer token every endpoint but /healthz requires (default: the DETR_API_KEY environment variable).")
    var apiKey: String?

    @Flag(help: "Allow binding to an address other than loopback without an API key.")
    var insecure = false

    @Option(
        name: .customLong("max-body-mb"), parsing: .unconditional,
        help: "The largest request body, in MiB (larger: 413).")
    var maxBodyMB = Self.defaults.bodyLimit / (1024 * 1024)

    @Option(
        name: .customLong("max-megapixels"), parsing: .unconditional,
        help: "The largest image, in millions of pixels (larger: 400).")
    var maxMegapixels = Double(Self.defaults.pixelLimit) / 1_000_000

    @Option(
        name: .customLong("max-connections"), parsing: .unconditional,
        help: """
            Beyond this many connections, the one waiting longest for a request head is closed to make room \
            (the new one when all have requests in progress).
            """)
    var maxConnections = Self.defaults.maxConnections

    @Option(
        name: .customLong("header-timeout-s"), parsing: .unconditional,
        help: """
            Seconds a connection has to send a complete request head after opening or after its previous \
            response (1 s while more than half of --max-connections are open).
            """)
    var headerTimeoutS = Self.seconds(Self.defaults.headerTimeout)

    @Option(
        name: .customLong("idle-timeout-s"), parsing: .unconditional,
        help: "Seconds without any byte, while a request body is being read or between requests, before closing.")
    var idleTimeoutS = Self.seconds(Self.defaults.idleTimeout)

    @Option(
        name: .customLong("body-timeout-s"), parsing: .unconditional,
        help: "Seconds a request body may take to arrive in full (then 408).")
    var bodyTimeoutS = Self.seconds(Self.defaults.bodyTimeout)

    @Flag(name: .customLong("no-exif"), help: "Do not apply EXIF orientation to JPEGs.")
    var noExif = false

    @Flag(name: .shortAndLong, help: "Log each HTTP request's errors from the server framework on stderr.")
    var verbose = false

    var serverConfiguration: ServerConfiguration {
        var c = ServerConfiguration()
        c.host = host
        c.port = port
        c.maxBatch = maxBatch
        c.maxWait = .microseconds(Int64((maxWaitMs * 1000).rounded()))
        c.queueCapacity = queue
        c.threshold = threshold
        c.apiKey = apiKey ?? ProcessInfo.processInfo.environment["DETR_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        c.insecure = insecure
        c.bodyLimit = maxBodyMB * 1024 * 1024
        c.pixelLimit = Int(maxMegapixels * 1_000_000)
        c.applyExifOrientation = !noExif
        c.maxConnections = maxConnections
        c.headerTimeout = Self.duration(headerTimeoutS)
        c.idleTimeout = Self.duration(idleTimeoutS)
        c.bodyTimeout = Self.duration(bodyTimeoutS)
        return c
    }

    /// The option that sets each `ServerConfiguration` property.
    static let flags = [
        "maxBatch": "--max-batch", "maxWait": "--max-wait-ms", "queueCapacity": "--queue", "threshold": "--threshold",
        "port": "--port", "bodyLimit": "--max-body-mb", "pixelLimit": "--max-megapixels", "apiKey": "--api-key",
        "maxConnections": "--max-connections", "headerTimeout": "--header-timeout-s",
        "idleTimeout": "--idle-timeout-s", "bodyTimeout": "--body-timeout-s",
    ]

    /// The defaults of the service's options: those of `ServerConfiguration`.
    private static let defaults = ServerConfiguration()

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func duration(_ seconds: Double) -> Duration {
        seconds.isFinite && seconds > 0 && seconds < 1e9 ? .milliseconds(Int64((seconds * 1000).rounded(.up))) : .zero
    }

    func validate() throws {
        try model.require(weights: false)
        guard (model.weights == nil) == randomWeights else {
            throw ValidationError("give --weights or --random-weights")
        }
        for (name, value) in [
            ("--header-timeout-s", headerTimeoutS), ("--idle-timeout-s", idleTimeoutS),
            ("--body-timeout-s", bodyTimeoutS),
        ] where !(value > 0 && value <= 86_400) {
            throw ValidationError("\(name) must be in (0, 86400] seconds, got \(value)")
        }
        guard (1...1_000_000).contains(maxConnections) else {
            throw ValidationError("--max-connections must be in 1...1000000, got \(maxConnections)")
        }
        guard (1...65_536).contains(queue) else { throw ValidationError("--queue must be in 1...65536, got \(queue)") }
        guard (1...1024).contains(maxBatch) else {
            throw ValidationError("--max-batch must be in 1...1024, got \(maxBatch)")
        }
        guard maxWaitMs >= 0 && maxWaitMs <= 60_000 else {
            throw ValidationError("--max-wait-ms must be in [0, 60000], got \(maxWaitMs)")
        }
        guard (1...4096).contains(maxBodyMB) else {
            throw ValidationError("--max-body-mb must be in 1...4096, got \(maxBodyMB)")
        }
        guard maxMegapixels > 0 && maxMegapixels <= 10_000 else {
            throw ValidationError("--max-megapixels must be in (0, 10000], got \(maxMegapixels)")
        }
        do { try serverConfiguration.validate() } catch let e as ServerConfiguration.InvalidSetting {
            // No key given: the rule that binding beyond loopback needs one (or --insecure).
            if e.setting == "apiKey" && serverConfiguration.apiKey == nil {
                throw ValidationError(
                    "binding to \(host) (not loopback) needs --api-key KEY, or --insecure to serve without one")
            }
            throw ValidationError("\(Self.flags[e.setting] ?? e.setting) \(e.problem)")
        }
    }

    func run() async throws {
        let server: DetectionServer
        do {
            let engine: DetectionEngine
            let predictor =
                randomWeights
                ? Predictor(detector: try model.makeRandomDetector(), device: model.device, precision: model.precision)
                : try model.loadPredictor()
            engine = DetectionEngine(predictor: predictor, configName: model.configName)
            server = try DetectionServer(engine: engine, configuration: serverConfiguration)
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        do {
            try await server.run(gracefulShutdownSignals: [.sigterm, .sigint]) { event in
                switch event {
                case .listening(let host, let port):
                    Terminal.note("detr serve: listening on http://\(Self.urlHost(host)):\(port)/")
                case .ready(let error?):
                    Terminal.error("warm-up forward failed: \(error)")
                case .ready:
                    Terminal.note("detr serve: model ready")
                case .stopping:
                    Terminal.note("detr serve: stopping (finishing requests in flight)")
                }
            }
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        Terminal.note("detr serve: stopped")
    }

    static func urlHost(_ host: String) -> String { host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host }
}
