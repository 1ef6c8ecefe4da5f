/// What the gateway answers to an `OPTIONS` request when the API has a CORS configuration and
/// no explicit `OPTIONS` route.
///
/// AWS: "If you configure CORS for an API, API Gateway automatically sends a response to
/// preflight OPTIONS requests, even if there isn't an OPTIONS route configured for your API",
/// and "For the OPTIONS method, your request must contain an origin header and an
/// Access-Control-Request-Method header" (developer guide, "Configure CORS for HTTP APIs").
/// The automatic answer is `204 No Content`; a preflight the configuration does not admit gets
/// the same 204 with no CORS headers, so the browser refuses the actual request (behaviour
/// observed on HTTP APIs, not documented).
public enum PreflightDecision: Sendable, Equatable {
    /// No `Origin` or no `Access-Control-Request-Method`: not a preflight; route the request.
    case notPreflight
    /// `204` without CORS headers: the origin, method or a requested header is not allowed.
    case refuse
    /// `204` with the answer's header lines.
    case allow(PreflightAnswer)

    /// The status of both `refuse` and `allow`.
    public static let status = 204
}

/// The header lines of an admitted preflight, built once when the policy is compiled.
public struct PreflightAnswer: Sendable, Equatable {
    /// Whether `access-control-allow-origin` carries the request's origin (any configuration
    /// but `*`); then `lines` holds only what follows that line, ending with `vary: origin`.
    public let echoesOrigin: Bool
    /// `name: value\r\n` lines; with `echoesOrigin` false, the whole answer.
    public let lines: [UInt8]

    /// Appends every header line of the answer; `origin` is the request's (trimmed) `Origin`.
    public func write(origin: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        if echoesOrigin {
            CorsPolicy.appendAllowOrigin(origin, to: &out)
        }
        out.append(contentsOf: lines)
    }
}
