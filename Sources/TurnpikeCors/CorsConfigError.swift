/// Why a CORS configuration was refused at load. API Gateway answers such an update with
/// 400 BadRequestException and `message`.
public enum CorsConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `*` among allowOrigins while allowCredentials is true. The Fetch standard forbids
    /// `access-control-allow-origin: *` on credentialed responses, and API Gateway refuses the
    /// configuration with exactly this message (aws/aws-cdk#9076: "allow-credentials is not
    /// supported if 'allow-origin' is * (Service: AmazonApiGatewayV2; Status Code: 400;
    /// Error Code: BadRequestException ...)").
    case wildcardOriginWithCredentials
    /// Not `*`, `null`, `scheme://*`, `scheme://host[:port]` or `scheme://*.domain[:port]`
    /// (a path, even a trailing `/`, a query, user info, a bad port or host, a `*` elsewhere).
    case invalidOrigin(String)
    /// Not an HTTP token of 1–64 characters (the API model's `StringWithLengthBetween1And64`) nor `*`.
    case invalidMethod(String)
    /// An allowHeaders or exposeHeaders entry that is neither a header name nor `*`.
    case invalidHeaderName(String)
    /// Outside -1...86400 (the API model's `IntegerWithLengthBetweenMinus1And86400`).
    case maxAgeOutOfRange(Int)

    public var status: Int { 400 }

    public var message: String {
        switch self {
        case .wildcardOriginWithCredentials:
            "allow-credentials is not supported if 'allow-origin' is *"
        case .invalidOrigin(let origin):
            "invalid origin \"\(origin)\" in allowOrigins: expected *, scheme://host[:port], scheme://* or scheme://*.domain[:port]"
        case .invalidMethod(let method):
            "invalid method \"\(method)\" in allowMethods"
        case .invalidHeaderName(let name):
            "invalid header name \"\(name)\""
        case .maxAgeOutOfRange(let value):
            "maxAge \(value) is outside -1 to 86400"
        }
    }

    public var description: String { message }
}
