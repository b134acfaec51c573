import Diagnostics
import Foundation

/// The settings of a detection service: where it listens, how it batches, its limits and its
/// access control.
public struct ServerConfiguration: Sendable {
    /// The address to bind (a host name or an IPv4/IPv6 address).
    public var host = "127.0.0.1"
    /// The port to bind; 0 picks a free one (see `DetectionServer.Event.listening`).
    public var port = 8080
    /// At most this many images run in one forward.
    public var maxBatch = 4
    /// How long the oldest queued request waits for others to join its batch.
    public var maxWait: Duration = .milliseconds(10)
    /// Requests waiting for a forward beyond this many are answered 503.
    public var queueCapacity = 64
    /// The score threshold when a request gives none.
    public var threshold: Float = 0.3
    /// The bearer token every endpoint but /healthz requires; nil for none.
    public var apiKey: String?
    /// Allows binding to an address other than loopback without an API key.
    public var insecure = false
    /// The largest request body accepted, in bytes (larger ones are answered 413).
    public var bodyLimit = 20 * 1024 * 1024
    /// The largest image accepted, in pixels, checked from its header before it is decoded.
    public var pixelLimit = 50_000_000
    /// Rotate and flip JPEGs as their EXIF orientation says (as `detr predict` does by default).
    public var applyExifOrientation = true
    /// Seconds a client is told to wait (`Retry-After`) when the queue is full.
    public var retryAfterSeconds = 1
    /// Beyond this many connections, the one that has waited longest for a request head is closed
    /// to make room (the new one, when every connection has a request in progress).
    public var maxConnections = 1024
    /// A connection must send a complete request head within this long of opening or of its
    /// previous response (`pressureHeaderTimeout` while more than half of `maxConnections` are open).
    public var headerTimeout: Duration = .seconds(10)
    /// The header deadline while more than half of `maxConnections` are open: stalled
    /// connections then make room within it, while clients that send their request at once are
    /// still answered.
    public var pressureHeaderTimeout: Duration = .seconds(1)
    /// A connection that sends nothing for this long while a request body is being read is closed.
    public var idleTimeout: Duration = .seconds(30)
    /// The whole request body must arrive within this long of its head (else 408).
    public var bodyTimeout: Duration = .seconds(60)
    /// Images decoded and resized at the same time (each holds its full-size pixels, about 23
    /// bytes per pixel at the peak, measured); nil: `min(maxBatch, cores, 4)`, so that at the
    /// default `pixelLimit` at most about 4.6 GB are in decoding at once.
    public var preparers: Int?
    /// After a request whose image has more pixels than this, the memory its decoding took is
    /// returned to the system.
    public var trimAbovePixels = 4_000_000

    public init() {}

    /// Images prepared at the same time.
    public var preparationConcurrency: Int {
        preparers ?? max(1, min(maxBatch, ProcessInfo.processInfo.activeProcessorCount, 4))
    }

    /// Whether `host` names a loopback address only.
    public var bindsLoopbackOnly: Bool {
        let h = host.lowercased().trimmingCharacters(in: ["[", "]"])
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }

    /// Checks the values and the rule that a non-loopback bind needs an API key or `insecure`.
    /// - Throws: `InvalidSetting` naming the property
    public func validate() throws {
        func check(_ ok: Bool, _ setting: String, _ problem: String) throws {
            guard ok else { throw InvalidSetting(setting: setting, problem: problem) }
        }
        try check(maxBatch >= 1, "maxBatch", "must be at least 1")
        try check(maxWait >= .zero, "maxWait", "must not be negative")
        try check(queueCapacity >= 1, "queueCapacity", "must be at least 1")
        try check(threshold >= 0 && threshold <= 1, "threshold", "must be in [0, 1]")
        try check((0...65535).contains(port), "port", "must be in 0...65535")
        try check(bodyLimit >= 1, "bodyLimit", "must be positive")
        try check(pixelLimit >= 1, "pixelLimit", "must be positive")
        try check(!(apiKey?.allSatisfy(\.isWhitespace) ?? false), "apiKey", "must not be empty or blank")
        try check(maxConnections >= 1, "maxConnections", "must be at least 1")
        for (name, value) in [
            ("headerTimeout", headerTimeout), ("pressureHeaderTimeout", pressureHeaderTimeout),
            ("idleTimeout", idleTimeout), ("bodyTimeout", bodyTimeout),
        ] {
            try check(value > .zero, name, "must be positive")
        }
        try check((preparers ?? 1) >= 1, "preparers", "must be at least 1")
        try check(
            bindsLoopbackOnly || apiKey != nil || insecure, "apiKey",
            "is needed to bind to \(host) (not loopback), unless insecure is set to serve without one")
    }

    /// A setting out of its range, named by its property.
    public struct InvalidSetting: SubjectError, Equatable, Sendable {
        /// The property of `ServerConfiguration`.
        public var setting: String
        public var problem: String
        public var subject: String? { setting }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

/// A problem that stops the service from starting (a setting, an address).
public struct ServeError: SubjectError, Equatable, Sendable {
    public var problem: String
    public var subject: String? { nil }

    public init(_ problem: String) { self.problem = problem }
}
