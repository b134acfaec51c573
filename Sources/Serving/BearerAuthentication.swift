import HTTPTypes
import Hummingbird

/// Requires `Authorization: Bearer KEY` on every path but the exempt ones (/healthz), and
/// compares the token in time that depends on the lengths only, never on where it differs.
struct BearerAuthentication<Context: RequestContext>: RouterMiddleware {
    let key: [UInt8]
    let exemptPaths: Set<String>

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if exemptPaths.contains(request.uri.path) { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            throw Self.unauthorized("this server needs an API key: send Authorization: Bearer KEY")
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix,
            Self.constantTimeEqual(Array(header.utf8.dropFirst(prefix.count)), key)
        else { throw Self.unauthorized("the API key is wrong") }
        return try await next(request, context)
    }

    static func unauthorized(_ message: String) -> RequestError {
        RequestError(.unauthorized, message, headers: [.wwwAuthenticate: "Bearer"])
    }

    /// Equality of two byte strings whose running time depends on their lengths, not their contents.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
