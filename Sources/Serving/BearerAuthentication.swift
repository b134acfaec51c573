import Foundation
import HTTPTypes
import Hummingbird

/// Requires the API key on every path but the exempt ones (/healthz), either as
/// `Authorization: Bearer KEY` (API clients) or as HTTP Basic credentials whose password is the key
/// (any user name; what a browser sends after its login prompt, so the page at / and the requests
/// it makes work with a key). Keys are compared in time that depends on the lengths only, never on
/// where they differ.
///
/// A refused request to the page (GET /) is challenged with `Basic realm="detr serve"`, which makes
/// a browser ask for the key; a browser then sends those credentials with the page's own requests
/// to the same server. Every other path is challenged with `Bearer`.
struct BearerAuthentication<Context: RequestContext>: RouterMiddleware {
    let key: [UInt8]
    let exemptPaths: Set<String>
    /// Paths a browser opens, challenged with Basic.
    var browserPaths: Set<String> = ["/"]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if exemptPaths.contains(path) { return try await next(request, context) }
        let challenge = browserPaths.contains(path) ? "Basic realm=\"detr serve\", charset=\"UTF-8\"" : "Bearer"
        guard let header = request.headers[.authorization] else {
            throw Self.unauthorized(
                "this server needs an API key: send Authorization: Bearer KEY", challenge: challenge)
        }
        guard let presented = Self.presentedKey(header), Self.constantTimeEqual(presented, key) else {
            throw Self.unauthorized("the API key is wrong", challenge: challenge)
        }
        return try await next(request, context)
    }

    /// The key an Authorization header carries: the token of `Bearer TOKEN`, or the password of
    /// `Basic base64(user:password)`; nil for another scheme or a malformed value.
    static func presentedKey(_ header: String) -> [UInt8]? {
        guard let space = header.firstIndex(of: " ") else { return nil }
        let scheme = header[..<space].lowercased()
        let value = header[header.index(after: space)...].drop(while: { $0 == " " })
        switch scheme {
        case "bearer":
            return value.isEmpty ? nil : Array(value.utf8)
        case "basic":
            guard let decoded = Data(base64Encoded: String(value)),
                let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
            else { return nil }
            return Array(decoded[decoded.index(after: colon)...])
        default:
            return nil
        }
    }

    static func unauthorized(_ message: String, challenge: String) -> RequestError {
        RequestError(.unauthorized, message, headers: [.wwwAuthenticate: challenge])
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
