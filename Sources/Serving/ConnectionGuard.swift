import Foundation
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The limits a connection lives under, from `ServerConfiguration`.
struct ConnectionLimits: Sendable {
    /// Beyond this many connections, the one waiting longest for a request head is closed (or the
    /// new one, when every connection has a request in progress).
    var maxConnections: Int
    /// A connection must send a complete request head within this long of opening (or of the
    /// end of its previous response).
    var headerTimeout: TimeAmount
    /// The header deadline while more than half of `maxConnections` are open: stalled
    /// connections then make room quickly, while a client that sends its request at once (a
    /// health check) is still answered.
    var pressureHeaderTimeout: TimeAmount
    /// Bodies declared larger than this get no `100 Continue` (the route answers 413).
    var bodyLimit: Int
}

/// The open connections of one server, shared by their guards: how many there are, and which of
/// them wait for a request head (the ones that may be closed to make room).
final class ConnectionCensus: Sendable {
    private struct State {
        var open = 0
        var sequence: UInt64 = 0
        /// Connections without a request in progress, with when (in order) they started waiting.
        var waiting: [ObjectIdentifier: (channel: any Channel, since: UInt64)] = [:]
    }
    private let state = NIOLockedValueBox(State())
    let metrics: ServiceMetrics

    init(metrics: ServiceMetrics) { self.metrics = metrics }

    /// Counts a new connection and returns how many are open with it.
    func opened() -> Int {
        let n = state.withLockedValue { s -> Int in
            s.open += 1
            return s.open
        }
        metrics.openConnections.set(Double(n))
        return n
    }

    func closed(_ id: ObjectIdentifier) {
        let n = state.withLockedValue { s -> Int in
            s.open -= 1
            s.waiting[id] = nil
            return s.open
        }
        metrics.openConnections.set(Double(n))
    }

    /// The connection waits for a request head.
    func waiting(_ id: ObjectIdentifier, channel: any Channel) {
        state.withLockedValue { s in
            s.sequence += 1
            s.waiting[id] = (channel, s.sequence)
        }
    }

    /// The connection has a request in progress.
    func working(_ id: ObjectIdentifier) {
        state.withLockedValue { s in s.waiting[id] = nil }
    }

    /// Closes the connection that has waited longest for a request head (not `id`).
    /// - Returns: whether there was one.
    func evictOldestWaiting(except id: ObjectIdentifier) -> Bool {
        let victim = state.withLockedValue { s -> (any Channel)? in
            guard let oldest = s.waiting.filter({ $0.key != id }).min(by: { $0.value.since < $1.value.since }) else {
                return nil
            }
            s.waiting[oldest.key] = nil
            return oldest.value.channel
        }
        victim?.close(promise: nil)
        return victim != nil
    }

    var count: Int { state.withLockedValue { $0.open } }
}

/// The first handler after HTTP/1 decoding of every connection: enforces the connection limit
/// (beyond it, the connection that has waited longest for a request head is closed to make room;
/// when every connection has a request in progress, the new one is), the header deadline, answers `Expect: 100-continue`, closes HTTP/1.0 (and
/// `Connection: close`) connections after their response, and answers requests the HTTP parser
/// rejects (unknown methods, oversized URLs or headers, TLS or HTTP/2 on the plain port) with a
/// JSON 400 that `/metrics` counts.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let limits: ConnectionLimits
    private let census: ConnectionCensus
    private var counted = false
    private var deadline: Scheduled<Void>?
    /// A request head arrived and its response has not ended.
    private var requestOpen = false
    private var closing = false

    init(limits: ConnectionLimits, census: ConnectionCensus) {
        self.limits = limits
        self.census = census
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { activate(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    func channelActive(context: ChannelHandlerContext) {
        activate(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    private func activate(_ context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        let n = census.opened()
        if n > limits.maxConnections {
            census.metrics.shedConnections.increment()
            guard census.evictOldestWaiting(except: ObjectIdentifier(self)) else {
                closing = true
                context.close(promise: nil)
                return
            }
        }
        armDeadline(context)
    }

    private func release() {
        deadline?.cancel()
        deadline = nil
        if counted {
            counted = false
            census.closed(ObjectIdentifier(self))
        }
    }

    /// Closes the connection unless a request head arrives in time.
    private func armDeadline(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        census.waiting(ObjectIdentifier(self), channel: context.channel)
        let underPressure = census.count * 2 > limits.maxConnections
        let timeout = underPressure ? min(limits.pressureHeaderTimeout, limits.headerTimeout) : limits.headerTimeout
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let handler = bound.value.handler
            guard !handler.requestOpen, !handler.closing, handler.counted else { return }
            handler.closing = true
            handler.census.metrics.timedOutConnections.increment()
            bound.value.context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var part = unwrapInboundIn(data)
        if case .head(var head) = part {
            deadline?.cancel()
            deadline = nil
            requestOpen = true
            census.working(ObjectIdentifier(self))
            // HTTP/1.0 without keep-alive (and any `Connection: close`) ends with its response.
            if !head.isKeepAlive
                && !head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "close" })
            {
                head.headers.replaceOrAdd(name: "connection", value: "close")
            }
            if head.version == .http1_1, Self.expectsContinue(head.headers) {
                let declared = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
                if declared <= limits.bodyLimit {
                    let continueHead = HTTPResponseHead(version: head.version, status: .continue)
                    context.writeAndFlush(wrapOutboundOut(.head(continueHead)), promise: nil)
                }
            }
            part = .head(head)
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    static func expectsContinue(_ headers: HTTPHeaders) -> Bool {
        headers[canonicalForm: "expect"].contains { $0.lowercased() == "100-continue" }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            requestOpen = false
            if !closing { armDeadline(context) }
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A parse error inside a request (a malformed chunked body) reaches the request's handler,
        // which answers it; one before any request head is answered here.
        guard let parserError = error as? HTTPParserError, !requestOpen else {
            context.fireErrorCaught(error)
            return
        }
        guard !closing else { return }
        closing = true
        deadline?.cancel()
        census.metrics.countRequest(status: 400)
        census.metrics.rejectedRequests(reason: Self.reason(parserError)).increment()
        let body = ByteBuffer(string: #"{"error":"malformed HTTP request: \#(Self.reason(parserError))"}"#)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }

    /// A short, fixed name of what the parser refused (also the metric label).
    static func reason(_ error: HTTPParserError) -> String {
        switch error {
        case .invalidMethod: "unknown method"
        case .headerOverflow: "headers too large"
        case .invalidURL: "invalid URL"
        case .invalidVersion: "not HTTP/1.x"
        case .invalidChunkSize: "invalid chunked encoding"
        case .invalidContentLength, .unexpectedContentLength: "invalid Content-Length"
        case .invalidHeaderToken, .invalidConstant, .invalidCharactersUsed, .lfExpected, .strictModeAssertion:
            "invalid request syntax"
        default: "invalid request"
        }
    }
}

/// Hummingbird's HTTP/1 channel with a `ConnectionGuard` right after the HTTP decoder.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let limits: ConnectionLimits
    let census: ConnectionCensus

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(ConnectionGuard(limits: limits, census: census), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
