import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain TCP connection to a loopback port, for requests no HTTP client library sends:
/// malformed framing, half-closes, stalls, aborted uploads.
/// Reads block their thread, so async tests call them through `blocking`, off Swift
/// concurrency's pool (which the in-process server needs: it has one thread per core).
final class RawConnection: @unchecked Sendable {
    private var fd: Int32

    /// Connects to 127.0.0.1:`port`; reads time out after `timeout` seconds.
    init(port: Int, timeout: Double = 600) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard ok == 0 else {
            Glibc.close(fd)
            throw Failure("connect: errno \(errno)")
        }
    }

    deinit { close() }

    /// Whether the server has closed the connection (end of input is readable now).
    var closedByPeer: Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) == 1 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }

    /// Closes the connection (again: nothing).
    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Runs blocking socket work on a thread of its own.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    func send(_ text: String) throws { try send(Data(text.utf8)) }

    func send(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard n > 0 else { throw Failure("send: errno \(errno)") }
                offset += n
            }
        }
    }

    /// Closes the sending side (the server reads end of input; the answer can still come).
    func halfClose() { shutdown(fd, Int32(SHUT_WR)) }

    /// Everything the server sends until it closes the connection (or the read timeout).
    /// - Returns: the bytes and whether the server closed the connection.
    func readAll() -> (data: Data, closed: Bool) {
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                out.append(contentsOf: buffer[0..<n])
            } else {
                return (out, n == 0 || (n < 0 && errno == ECONNRESET))
            }
        }
    }

    /// Reads until `marker` has arrived (or the connection ends).
    func read(until marker: String) -> String {
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: out, as: UTF8.self).contains(marker) {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One response parsed from raw bytes: status, headers (lower-cased names) and body.
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data

        init?(_ data: Data) {
            guard let end = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
            let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
            let parts = head[0].split(separator: " ")
            guard parts.count >= 2, let code = Int(parts[1]) else { return nil }
            status = code
            headers = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
            body = Data(data[end.upperBound...])
        }

        /// The final response after any 1xx ones.
        static func final(_ data: Data) -> Response? {
            var rest = data
            while let r = Response(rest) {
                guard (100..<200).contains(r.status) else { return r }
                rest = r.body
            }
            return nil
        }

        func errorMessage() -> String? {
            (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["error"] as? String
        }
    }
}
