import Prometheus

/// The service's Prometheus metrics: requests by status, detection latency, images per
/// forward, forward time, queue depth and requests dropped because their client went away.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let latency: DurationHistogram
    let forward: DurationHistogram
    let batchSize: ValueHistogram
    let queueDepth: Gauge
    let cancelled: Counter
    let openConnections: Gauge
    let shedConnections: Counter
    let timedOutConnections: Counter

    /// - Parameter maxBatch: the largest batch; the batch-size histogram has one bucket per size.
    public init(maxBatch: Int) {
        let seconds: [Duration] = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            .seconds(30),
        ]
        latency = registry.makeDurationHistogram(
            descriptor: Self.name(
                "detect_duration", unit: "seconds",
                help: "Time from receiving a POST /v1/detect to its response, any status."),
            buckets: seconds)
        forward = registry.makeDurationHistogram(
            descriptor: Self.name(
                "forward_duration", unit: "seconds", help: "Time of one batched forward pass with post-processing."),
            buckets: seconds)
        batchSize = registry.makeValueHistogram(
            descriptor: Self.name("batch_size", help: "Images per forward pass."),
            buckets: (1...max(1, maxBatch)).map(Double.init))
        queueDepth = registry.makeGauge(
            descriptor: Self.name("queue_depth", help: "Requests waiting for a forward pass."))
        cancelled = registry.makeCounter(
            descriptor: Self.name(
                "cancelled_requests", unit: "total",
                help: "Requests whose client disconnected before their answer (counted as status 499)."))
        openConnections = registry.makeGauge(
            descriptor: Self.name("open_connections", help: "HTTP connections open now."))
        shedConnections = registry.makeCounter(
            descriptor: Self.name(
                "shed_connections", unit: "total",
                help: """
                    Connections closed because --max-connections were open: the one waiting longest for a \
                    request head, or the new one when every connection had a request in progress.
                    """))
        timedOutConnections = registry.makeCounter(
            descriptor: Self.name(
                "timed_out_connections", unit: "total",
                help: "Connections closed because no complete request head arrived within the header timeout."))
    }

    /// The counter of requests the HTTP parser refused, by reason (also counted as status 400).
    func rejectedRequests(reason: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.name(
                "rejected_requests", unit: "total", help: "Requests the HTTP parser refused (answered 400), by reason."),
            labels: [("reason", reason)])
    }

    /// `detr_<name>[_<unit>]` with its help text.
    static func name(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "detr", metricName: name, unitName: unit, helpText: help)
    }

    /// Counts one answered request.
    public func countRequest(status: Int) {
        registry.makeCounter(
            descriptor: Self.name("http_requests", unit: "total", help: "HTTP requests answered, by status code."),
            labels: [("status", String(status))]
        ).increment()
    }

    /// The scheduler's reports, recorded here.
    public var observer: BatchScheduler.Observer {
        var o = BatchScheduler.Observer()
        o.queueDepth = { [queueDepth] in queueDepth.set(Double($0)) }
        o.batchRan = { [batchSize, forward] count, duration in
            batchSize.record(Double(count))
            forward.record(duration)
        }
        o.cancelled = { [cancelled] in cancelled.increment() }
        return o
    }

    /// The text exposition format.
    public func text() -> String { registry.emitToString() }
}
