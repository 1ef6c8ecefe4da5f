/// Which kind of API a Lambda authorizer guards; refusals read differently for each.
public enum AuthorizerAPIKind: Sendable, Hashable {
    /// REST API (TOKEN and REQUEST authorizers).
    case rest
    /// HTTP API (REQUEST authorizers, payload 1.0 or 2.0).
    case http
}

/// What the caller learned from a Lambda authorizer that let the request through.
public struct AuthorizedPrincipal: Sendable, Equatable {
    /// `principalId` of a policy response; nil for HTTP API simple responses.
    public let principalId: String?
    /// The response's `context` (`$context.authorizer.KEY`, `requestContext.authorizer`).
    /// REST responses only ever hold strings, numbers and booleans here.
    public let context: [String: JSONValue]
    /// The API key the authorizer names for usage plans (REST, `apiKeySource: AUTHORIZER`).
    public let usageIdentifierKey: String?

    public init(principalId: String?, context: [String: JSONValue], usageIdentifierKey: String?) {
        self.principalId = principalId
        self.context = context
        self.usageIdentifierKey = usageIdentifierKey
    }

    /// `$context.authorizer.KEY` as mapping templates and access logs see it: REST
    /// stringifies every value ("The returned values are all stringified", "Output from an
    /// API Gateway Lambda authorizer"): strings as they are, numbers and booleans as JSON
    /// writes them, anything else as compact JSON.
    public func contextText(_ key: String) -> String? {
        context[key]?.claimText
    }
}

/// The outcome of a Lambda authorizer for one request, with the response API Gateway
/// gives when it refuses.
///
/// Sources for the refusal bodies:
/// - 401 `{"message":"Unauthorized"}`: the function failed with the error message
///   `Unauthorized`, or an identity source was missing, null or empty, or a TOKEN failed
///   the `identityValidationExpression` ("Why do I get API Gateway 401 Unauthorized errors
///   after I create a Lambda authorizer?", AWS knowledge center; HTTP API Lambda
///   authorizer page, "Identity sources": "the client receives a 401 error").
/// - 403, REST: `{"message":"User is not authorized to access this resource with an
///   explicit deny"}` for a matching Deny statement, `{"message":"User is not authorized
///   to access this resource"}` when no Allow statement matches ("How do I troubleshoot
///   HTTP 403 Forbidden errors when using a Lambda authorizer with an API Gateway REST
///   API?", AWS knowledge center, both examples).
/// - 403, HTTP APIs: `{"message":"Forbidden"}` (the HTTP API default for a refused
///   authorization, as for JWT scopes; an `isAuthorized: false` simple response or a
///   policy that does not allow the route).
/// - 500, REST: `{"message":null}` with `x-amzn-ErrorType: AuthorizerConfigurationException`
///   (the AUTHORIZER_CONFIGURATION_ERROR gateway response renders
///   `$context.error.messageString`, which is null here; the exact body is quoted in
///   "Debugging custom ApiGateway authorizers", loige.co, and as `{ "message": null }` in
///   "API Gateway + Lambda authorizer + Lambda proxy integration failure modes", dev.to).
/// - 500, HTTP APIs: `{"message":"Internal Server Error"}` (HTTP API Lambda authorizer page,
///   "Troubleshooting": "clients receive a 500 Internal Server Error").
public enum AuthorizerDecision: Sendable, Equatable {
    case allow(AuthorizedPrincipal)
    case unauthorized
    /// `explicitDeny`: a Deny statement matched (REST words it differently).
    case forbidden(AuthorizerAPIKind, explicitDeny: Bool)
    case failure(AuthorizerAPIKind)

    public var status: Int {
        switch self {
        case .allow: 200
        case .unauthorized: 401
        case .forbidden: 403
        case .failure: 500
        }
    }

    /// The exact JSON body of a refusal; empty for `.allow`.
    public var body: [UInt8] {
        switch self {
        case .allow: []
        case .unauthorized: Self.unauthorizedBody
        case .forbidden(.rest, explicitDeny: true): Self.explicitDenyBody
        case .forbidden(.rest, explicitDeny: false): Self.implicitDenyBody
        case .forbidden(.http, _): Self.forbiddenBody
        case .failure(.rest): Self.restFailureBody
        case .failure(.http): Self.httpFailureBody
        }
    }

    /// The `x-amzn-ErrorType` REST APIs send with the refusal; nil for HTTP APIs and `.allow`.
    public var restErrorType: String? {
        switch self {
        case .allow, .forbidden(.http, _), .failure(.http): nil
        case .unauthorized: "UnauthorizedException"
        case .forbidden(.rest, _): "AccessDeniedException"
        case .failure(.rest): "AuthorizerConfigurationException"
        }
    }

    private static let unauthorizedBody = Array(#"{"message":"Unauthorized"}"#.utf8)
    private static let explicitDenyBody =
        Array(#"{"message":"User is not authorized to access this resource with an explicit deny"}"#.utf8)
    private static let implicitDenyBody = Array(#"{"message":"User is not authorized to access this resource"}"#.utf8)
    private static let forbiddenBody = Array(#"{"message":"Forbidden"}"#.utf8)
    private static let restFailureBody = Array(#"{"message":null}"#.utf8)
    private static let httpFailureBody = Array(#"{"message":"Internal Server Error"}"#.utf8)
}
