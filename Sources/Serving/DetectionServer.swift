import Detection
import Diagnostics
import Foundation
import Graphics
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Records
import ServiceLifecycle
import Torch
import UnixSignals
import Vision

/// The HTTP detection service: a Hummingbird application over a `BatchScheduler`.
///
/// Endpoints: POST /v1/detect, GET /v1/model, /healthz, /readyz, /metrics and / (a page).
/// Every error is answered as `{"error": "..."}` with its status.
public final class DetectionServer: Sendable {
    /// What happens as the server runs, for the caller to report.
    public enum Event: Sendable {
        /// Accepting connections on this host and port (the bound port when 0 was asked for).
        case listening(host: String, port: Int)
        /// The warm-up forward finished (with its error, if any): /readyz answers 200 from now on.
        case ready(error: String?)
        /// Stopped accepting; in-flight requests are finishing.
        case stopping
    }

    static let detectPath = "/v1/detect"
    static let healthPath = "/healthz"

    public let engine: DetectionEngine
    public let configuration: ServerConfiguration
    public let metrics: ServiceMetrics
    public let scheduler: BatchScheduler
    private let logger: Logger
    private let group = NIOLockedValueBox<ServiceGroup?>(nil)
    let census: ConnectionCensus
    /// Decodes and resizes uploads, at most `configuration.preparationConcurrency` at a time.
    private let preparation: OperationQueue

    /// - Parameters:
    ///   - logger: where Hummingbird logs; by default nowhere
    /// - Throws: `ServeError` when the configuration is invalid
    public init(engine: DetectionEngine, configuration: ServerConfiguration, logger: Logger? = nil) throws {
        try configuration.validate()
        self.engine = engine
        self.configuration = configuration
        self.metrics = ServiceMetrics(maxBatch: configuration.maxBatch)
        self.scheduler = BatchScheduler(
            engine: engine, maxBatch: configuration.maxBatch, maxWait: configuration.maxWait,
            capacity: configuration.queueCapacity, observer: metrics.observer)
        self.logger = logger ?? Logger(label: "detr-serve", factory: { _ in SwiftLogNoOpLogHandler() })
        self.census = ConnectionCensus(metrics: metrics)
        self.preparation = OperationQueue()
        preparation.maxConcurrentOperationCount = configuration.preparationConcurrency
    }

    /// Hummingbird's HTTP/1 server with the idle timeout, and a `ConnectionGuard` on every
    /// connection.
    var serverBuilder: HTTPServerBuilder {
        let limits = ConnectionLimits(
            maxConnections: configuration.maxConnections, headerTimeout: Self.timeAmount(configuration.headerTimeout),
            pressureHeaderTimeout: Self.timeAmount(configuration.pressureHeaderTimeout),
            bodyLimit: configuration.bodyLimit)
        let idle = Self.timeAmount(configuration.idleTimeout)
        let census = census
        return HTTPServerBuilder { responder in
            GuardedHTTP1Channel(
                inner: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: idle)),
                limits: limits, census: census)
        }
    }

    static func timeAmount(_ d: Duration) -> TimeAmount {
        .nanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
    }

    /// Runs until a signal in `gracefulShutdownSignals` arrives or `shutdown()` is called, then
    /// stops accepting connections, finishes the requests in flight and returns.
    public func run(
        gracefulShutdownSignals: [UnixSignal] = [], onEvent: @escaping @Sendable (Event) -> Void = { _ in }
    ) async throws {
        let host = configuration.host
        let (listening, bound) = AsyncStream.makeStream(of: Void.self)
        var app = Application(
            router: makeRouter(),
            server: serverBuilder,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: configuration.port), serverName: "detr"),
            onServerRunning: { channel in
                onEvent(.listening(host: host, port: channel.localAddress?.port ?? 0))
                bound.yield()
                bound.finish()
            },
            logger: logger)
        app.addServices(
            SchedulerService(
                scheduler: scheduler, listening: listening, onReady: { onEvent(.ready(error: $0.map { "\($0)" })) }))
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: app), .init(service: ShutdownNotice { onEvent(.stopping) })],
                gracefulShutdownSignals: gracefulShutdownSignals, logger: logger))
        group.withLockedValue { $0 = serviceGroup }
        do {
            try await serviceGroup.run()
        } catch {
            bound.finish()
            throw ServeError("cannot serve on \(host):\(configuration.port): \(Self.describe(error))")
        }
    }

    /// A bind failure as one phrase ("Address already in use (errno 98)"), not NIO's dump.
    static func describe(_ error: Error) -> String {
        if let e = error as? IOError { return "\(String(cString: strerror(e.errnoCode))) (errno \(e.errnoCode))" }
        return "\(error)"
    }

    /// The HTTP connections open now.
    public var openConnections: Int { census.count }

    /// Starts a graceful shutdown of a running server.
    public func shutdown() async {
        await group.withLockedValue { $0 }?.triggerGracefulShutdown()
    }

    // MARK: Routes

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: JSONErrorMiddleware(bodyLimit: configuration.bodyLimit))
        router.add(middleware: MethodCheck(allowed: Self.methods))
        if let key = configuration.apiKey {
            router.add(middleware: BearerAuthentication(key: Array(key.utf8), exemptPaths: [Self.healthPath]))
        }
        router.get(RouterPath(Self.healthPath)) { _, _ in Self.json(["status": "ok"]) }
        router.get("/readyz") { [scheduler] _, _ in
            guard scheduler.isReady else {
                throw RequestError(.serviceUnavailable, "the model is warming up")
            }
            return Self.json(["status": "ready"])
        }
        router.get("/metrics") { [metrics] _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.text())))
        }
        router.get("/v1/model") { [self] _, _ in
            let description = modelDescription
            let data = try JSONOutput.data(description, snakeCaseKeys: true)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/") { [configuration] _, _ in
            let page = WebPage.html.replacingOccurrences(
                of: "__THRESHOLD__", with: String(format: "%.2f", configuration.threshold))
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        router.post(RouterPath(Self.detectPath)) { [self] request, _ in
            let response: Response
            do {
                response = try await detect(request)
            } catch is CancellationError {
                // The client closed the connection before its request was complete: nobody
                // reads this answer; it is counted as 499 (client closed request).
                metrics.cancelled.increment()
                response = RequestError.jsonResponse(
                    status: .init(code: 499, reasonPhrase: "Client Closed Request"),
                    message: "cancelled: the client went away")
            } catch {
                response = JSONErrorMiddleware<BasicRequestContext>.response(
                    for: error, bodyLimit: configuration.bodyLimit)
            }
            return response
        }
        return router
    }

    /// The methods of each path the server answers (others: 405 with `Allow`).
    static let methods: [String: [HTTPRequest.Method]] = [
        detectPath: [.post], healthPath: [.get, .head], "/readyz": [.get, .head], "/metrics": [.get, .head],
        "/v1/model": [.get, .head], "/": [.get, .head],
    ]

    var modelDescription: ModelDescription {
        ModelDescription(
            architecture: engine.config.architecture.rawValue, device: engine.device.description,
            precision: engine.precision.rawValue,
            configName: engine.configName, config: engine.config, classNames: engine.names,
            engine: Engine.current,
            batching: .init(
                maxBatch: configuration.maxBatch,
                maxWaitMs: Double(configuration.maxWait.components.seconds) * 1000
                    + Double(configuration.maxWait.components.attoseconds) * 1e-15,
                queue: configuration.queueCapacity, grouping: "resized size"))
    }

    static func json(_ value: [String: String]) -> Response {
        let data = (try? JSONOutput.data(value)) ?? Data("{}".utf8)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Detection

    /// POST /v1/detect: reads the image (raw body or multipart field `image`), checks it,
    /// queues it for a batch and answers its detection record or, with `draw=1`, the PNG.
    func detect(_ request: Request) async throws -> Response {
        let query = try DetectQuery(request.uri, defaultThreshold: configuration.threshold)
        let limit = configuration.bodyLimit
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw RequestError(.contentTooLarge, "the request body is larger than the limit of \(limit) bytes")
        }
        let contentType = request.headers[.contentType]
        let body = try await readBody(request, limit: limit)
        let upload = try Self.upload(from: body, contentType: contentType, name: query.name)
        return try await detect(upload, query: query)
    }

    /// Reads the body. A client that closes its side after sending the whole request (a
    /// half-close) still gets its answer; one that leaves before the body is complete cancels
    /// the request (`CancellationError`). Malformed framing (chunked encoding) is 400, a body
    /// slower than `bodyTimeout` 408.
    func readBody(_ request: Request, limit: Int) async throws -> Data {
        let timeout = configuration.bodyTimeout
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
        do {
            let buffer = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await request.body.collect(upTo: limit) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let buffer = first else {
                    throw RequestError(
                        .requestTimeout,
                        "the request body did not arrive within \(String(format: "%g", seconds)) s (--body-timeout-s)")
                }
                return buffer
            }
            // The body ends early when the client closes the connection inside it.
            if let declared = request.headers[.contentLength].flatMap(Int.init), buffer.readableBytes < declared {
                throw CancellationError()
            }
            return Data(buffer: buffer)
        } catch let error as HTTPParserError {
            // End of input inside the body: the client has gone.
            if error == .invalidEOFState { throw CancellationError() }
            throw RequestError(.badRequest, "malformed request body: \(ConnectionGuard.reason(error))")
        } catch let error as RequestError {
            throw error
        } catch is NIOTooManyBytesError {
            throw RequestError(.contentTooLarge, "the request body is larger than the limit of \(limit) bytes")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The connection ended inside the body: the client is gone.
            throw CancellationError()
        }
    }

    /// Decodes, queues and answers one upload.
    func detect(_ upload: Upload, query: DetectQuery) async throws -> Response {
        let draw = query.draw
        var prepared = try await offload(on: preparation) { [self] in try decodeAndPrepare(upload, keepImage: draw) }
        let detections: [DetectedObject]
        do {
            detections = try await scheduler.submit(prepared.prepared, options: query.options)
        } catch BatchScheduler.Rejection.queueFull(let capacity) {
            throw RequestError(
                .serviceUnavailable, "the queue is full (\(capacity) requests waiting); retry later",
                headers: [.retryAfter: String(configuration.retryAfterSeconds)])
        } catch BatchScheduler.Rejection.stopping {
            throw RequestError(.serviceUnavailable, "the server is shutting down")
        } catch let error as TorchError {
            throw RequestError(.internalServerError, "the forward failed: \(error)")
        }
        let record = PredictionRecord(
            file: upload.name, width: prepared.width, height: prepared.height, detections: detections,
            names: engine.names)
        if let image = prepared.image {
            let large = image.width * image.height > configuration.trimAbovePixels
            let png = try await offload(on: preparation) {
                let data = try record.drawn(on: image).encoded(.png)
                return data
            }
            prepared.image = nil
            if large { Torch.releaseFreedMemory() }
            return Response(
                status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: try record.json())))
    }

    /// The image bytes of a request and the name its record gets.
    struct Upload: Sendable {
        var data: Data
        var name: String
    }

    static func upload(from body: Data, contentType: String?, name: String?) throws -> Upload {
        var data = body
        var filename: String?
        if let contentType, let boundary = MultipartForm.boundary(contentType: contentType) {
            guard let field = try MultipartForm.field(named: "image", in: body, boundary: boundary) else {
                throw RequestError(.badRequest, "the multipart form has no field named image")
            }
            data = field.data
            filename = field.filename
        }
        guard !data.isEmpty else {
            throw RequestError(.badRequest, "the request body is empty: send a JPEG or PNG image")
        }
        return Upload(data: data, name: name ?? filename ?? "image")
    }

    /// An upload decoded and resized: its size, the full-size image when it is drawn on, and the
    /// model's input.
    struct Prepared: @unchecked Sendable {
        var width: Int
        var height: Int
        var image: Image?
        var prepared: PreparedImage
    }

    /// Checks the header (format, pixel limit) before decoding, decodes and prepares the image.
    /// After an image above `trimAbovePixels` (not kept for drawing), the memory its decoding
    /// took goes back to the system.
    func decodeAndPrepare(_ upload: Upload, keepImage: Bool) throws -> Prepared {
        let header: ImageHeader
        do {
            header = try ImageHeader(data: upload.data, name: "image")
        } catch let error as FileError {
            throw RequestError(.badRequest, error.description)
        }
        guard header.pixelCount <= configuration.pixelLimit else {
            throw RequestError(
                .badRequest,
                "image: \(header.width)x\(header.height) is \(header.pixelCount) pixels, more than the limit of "
                    + "\(configuration.pixelLimit) (--max-megapixels)")
        }
        let result = try prepareImage(upload, keepImage: keepImage)
        if !keepImage && header.pixelCount > configuration.trimAbovePixels { Torch.releaseFreedMemory() }
        return result
    }

    private func prepareImage(_ upload: Upload, keepImage: Bool) throws -> Prepared {
        let image: Image
        do {
            image = try Image(
                data: upload.data, name: "image", applyExifOrientation: configuration.applyExifOrientation)
        } catch let error as FileError {
            throw RequestError(.badRequest, error.description)
        }
        let prepared: PreparedImage
        do {
            prepared = try engine.prepare(image)
        } catch {
            throw RequestError(.internalServerError, "image: cannot be resized: \(error)")
        }
        return Prepared(
            width: image.width, height: image.height, image: keepImage ? image : nil, prepared: prepared)
    }

    /// Runs CPU-bound work (decoding, resizing, encoding) off Swift concurrency's cooperative pool,
    /// on `queue` (which bounds how many run at once).
    func offload<T: Sendable>(on queue: OperationQueue, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.addOperation { continuation.resume(with: Result { try work() }) }
        }
    }
}
