import Foundation
import HTTPTypes
import Hummingbird
import Records

/// An error answered to a client: a status and a message, sent as `{"error": "message"}`.
public struct RequestError: HTTPResponseError, Equatable {
    public var status: HTTPResponse.Status
    public var message: String
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.jsonResponse(status: status, message: message, headers: headers)
    }

    struct Body: Encodable { var error: String }

    /// `{"error": message}` with `status`.
    static func jsonResponse(status: HTTPResponse.Status, message: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        let data = (try? JSONOutput.data(Body(error: message))) ?? Data("{\"error\":\"internal error\"}".utf8)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
