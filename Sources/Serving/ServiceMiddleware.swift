import HTTPTypes
import Hummingbird
import NIOCore

/// Counts every answered request by status (the outermost middleware, so it sees the final
/// status of errors too) and times POST /v1/detect.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        metrics.countRequest(status: response.status.code)
        if request.uri.path == DetectionServer.detectPath {
            metrics.latency.record(ContinuousClock.now - start)
        }
        return response
    }
}

/// Turns every error into `{"error": "..."}` with its status: the service's own
/// `RequestError`s, Hummingbird's (404, 405), a body over the limit (413), anything else (500).
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let bodyLimit: Int

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.response(for: error, bodyLimit: bodyLimit)
        }
    }

    /// The JSON error response of `error`.
    static func response(for error: Error, bodyLimit: Int) -> Response {
        do {
            throw error
        } catch let error as RequestError {
            return RequestError.jsonResponse(status: error.status, message: error.message, headers: error.headers)
        } catch is NIOTooManyBytesError {
            return RequestError.jsonResponse(
                status: .contentTooLarge, message: "the request body is larger than the limit of \(bodyLimit) bytes")
        } catch let error as HTTPError {
            return RequestError.jsonResponse(
                status: error.status, message: error.body ?? Self.message(error.status), headers: error.headers)
        } catch let error as any HTTPResponseError {
            return RequestError.jsonResponse(status: error.status, message: Self.message(error.status))
        } catch is CancellationError {
            // The client has gone; this answer is not delivered, but it is counted.
            return RequestError.jsonResponse(status: .serviceUnavailable, message: "cancelled: the client went away")
        } catch {
            return RequestError.jsonResponse(status: .internalServerError, message: "internal error: \(error)")
        }
    }

    static func message(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "no such endpoint"
        case .methodNotAllowed: "method not allowed on this endpoint"
        default: status.reasonPhrase.lowercased()
        }
    }
}

/// Answers 405 with `Allow` for a known path asked with a method it does not take (the router
/// alone would answer 404).
struct MethodCheck<Context: RequestContext>: RouterMiddleware {
    let allowed: [String: [HTTPRequest.Method]]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let methods = allowed[request.uri.path], !methods.contains(request.method) {
            let list = methods.map(\.rawValue).joined(separator: ", ")
            throw RequestError(
                .methodNotAllowed,
                "\(request.method.rawValue) is not allowed on \(request.uri.path) (allowed: \(list))",
                headers: [.allow: list])
        }
        return try await next(request, context)
    }
}
