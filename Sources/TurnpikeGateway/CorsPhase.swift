import TurnpikeCors

/// Phase 2 (after resolve): CORS as HTTP APIs configure it. A preflight — OPTIONS with
/// Origin and Access-Control-Request-Method — is answered here (204) unless the route is
/// an explicit OPTIONS route; for every other request the CORS fields for the client's
/// origin are prepared, to replace whatever the backend sends.
public enum CorsPhase {
    private static let origin: [UInt8] = Array("origin".utf8)
    private static let requestMethod: [UInt8] = Array("access-control-request-method".utf8)
    private static let requestHeaders: [UInt8] = Array("access-control-request-headers".utf8)

    /// Whether the request is a preflight the gateway answers; the answer's fields are
    /// appended to state.responseHeaders.
    public static func answersPreflight(
        request: RequestHead, policy: CorsPolicy, explicitOptionsRoute: Bool, state: inout PipelineState
    ) -> Bool {
        guard !explicitOptionsRoute, ASCII.equalsLowercased(request.method, "options"),
              let origin = request.header(origin), let method = request.header(requestMethod)
        else { return false }
        switch policy.preflight(origin: origin, requestMethod: method, requestHeaders: request.header(requestHeaders)) {
        case .notPreflight:
            return false
        case .refuse:
            return true
        case .allow(let answer):
            answer.write(origin: origin, into: &state.responseHeaders)
            return true
        }
    }

    /// The CORS fields an actual response carries, into state.corsHeaders.
    public static func prepareResponseHeaders(request: RequestHead, policy: CorsPolicy, state: inout PipelineState) {
        guard let origin = request.header(origin) else { return }
        policy.responseHeaders(origin: origin, into: &state.corsHeaders)
    }
}
