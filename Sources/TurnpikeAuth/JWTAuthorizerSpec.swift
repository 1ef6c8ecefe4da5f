/// Where a JWT authorizer gets its keys.
public enum JWKSSource: Sendable, Equatable {
    /// A JWKS document on disk, read once when the authorizer is built.
    case file(path: String)
    /// A JWKS URL, fetched in the background and refreshed.
    case url(String)
    /// `{issuer}/.well-known/openid-configuration` → `jwks_uri`, as API Gateway does.
    case discovery
}

/// The validated configuration of one JWT authorizer (built from config by
/// TurnpikeConfig's consumers; this module does no config parsing).
public struct JWTAuthorizerSpec: Sendable, Equatable {
    public var name: String
    /// Must equal the token's `iss` exactly.
    public var issuer: String
    /// The token's `aud` (or, when it has no `aud`, its `client_id`) must be one of
    /// these. Empty: no audience check (config validation should require one, as
    /// API Gateway's console does).
    public var audiences: [String]
    public var jwksSource: JWKSSource
    /// PEM CA bundle for https JWKS/discovery fetches; nil: the system's trust store.
    public var caBundle: String?
    /// Leeway for `exp`, `nbf` and `iat`. API Gateway documents none ("exp – Must be
    /// after the current time in UTC", developer guide, "Control access to HTTP APIs
    /// with JWT authorizers"); RFC 7519 §4.1.4 allows "some small leeway, usually no
    /// more than a few minutes", and 60 s is Envoy jwt_authn's default.
    public var clockSkewSeconds: Int64
    /// How often fetched keys are refreshed.
    public var jwksRefreshSeconds: Int64
    /// An unknown `kid` triggers a refetch at most this often.
    public var unknownKidRefetchMinSeconds: Int64
    /// Timeout of one JWKS or discovery fetch.
    public var fetchTimeoutMilliseconds: UInt32

    public init(
        name: String, issuer: String, audiences: [String], jwksSource: JWKSSource,
        caBundle: String? = nil, clockSkewSeconds: Int64 = 60, jwksRefreshSeconds: Int64 = 300,
        unknownKidRefetchMinSeconds: Int64 = 10, fetchTimeoutMilliseconds: UInt32 = 5000
    ) {
        self.name = name
        self.issuer = issuer
        self.audiences = audiences
        self.jwksSource = jwksSource
        self.caBundle = caBundle
        self.clockSkewSeconds = clockSkewSeconds
        self.jwksRefreshSeconds = jwksRefreshSeconds
        self.unknownKidRefetchMinSeconds = unknownKidRefetchMinSeconds
        self.fetchTimeoutMilliseconds = fetchTimeoutMilliseconds
    }

    /// The OpenID discovery document's URL for `issuer`.
    public var discoveryURL: String {
        var base = issuer
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/.well-known/openid-configuration"
    }
}
