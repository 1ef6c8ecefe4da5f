/// An API's CORS configuration as written (HTTP APIs' `corsConfiguration`), before validation;
/// `CorsPolicy` compiles it.
public struct CorsSpec: Sendable, Equatable {
    /// Exact origins (`https://app.example.com`, `http://localhost:3000`), `*`, `https://*` /
    /// `http://*` (AWS: "allow any origin that begins with https://"), and — a Turnpike
    /// extension — wildcard subdomains such as `https://*.example.com`.
    public var allowOrigins: [String]
    /// Method names or `*`.
    public var allowMethods: [String]
    /// Request header names or `*`.
    public var allowHeaders: [String]
    /// Response header names or `*`.
    public var exposeHeaders: [String]
    /// Seconds a browser may cache a preflight answer, -1...86400; nil sends no
    /// `access-control-max-age`.
    public var maxAge: Int?
    public var allowCredentials: Bool

    public init(
        allowOrigins: [String] = [], allowMethods: [String] = [], allowHeaders: [String] = [],
        exposeHeaders: [String] = [], maxAge: Int? = nil, allowCredentials: Bool = false
    ) {
        self.allowOrigins = allowOrigins
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAge = maxAge
        self.allowCredentials = allowCredentials
    }
}
