/// Turns a captured raw path segment into the value an HTTP API passes as a path parameter.
///
/// AWS: "API Gateway decodes URL-encoded request parameters before passing them to your backend
/// integration" (docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html).
/// Routing has already decoded the path once (so `%2F` split segments); the parameter is then decoded
/// again, which is why a `/` inside an HTTP API path parameter has to be sent double-encoded as `%252F`
/// (Stack Overflow "How to encode parameters for AWS API Gateway (HTTP API)?", summarised at
/// volcengine.com/article/1333845 and prodissertation.co.uk). Malformed escapes are kept as written,
/// `+` is not a space in a path (RFC 3986), and bytes that are not UTF-8 become U+FFFD.
public enum PathParameterDecoding {
    /// The decoded value of the raw (as received) bytes of one captured variable.
    public static func value(of raw: UnsafeRawBufferPointer) -> String {
        String(decoding: PathBytes.percentDecoded(PathBytes.percentDecoded(raw)), as: UTF8.self)
    }

    /// `value(of:)` for a raw value held as a string.
    public static func value(of raw: String) -> String {
        String(decoding: PathBytes.percentDecoded(PathBytes.percentDecoded(raw.utf8)), as: UTF8.self)
    }
}
