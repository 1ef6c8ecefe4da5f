/// An API's CORS configuration compiled for the request path: origin matching, the preflight
/// answer and the lines added to actual responses, all decided on borrowed bytes without
/// allocating (appending to a caller's reused buffer aside).
///
/// List values are sent as configured, joined by commas, with `*` kept literally: the
/// developer guide's examples (`authorization, *`, `GET, POST, DELETE, *`) only make sense if
/// the browser reads `*` itself — under the Fetch standard it covers every header but
/// `authorization`, and means a literal `*` on credentialed requests. Header names are sent
/// lowercased, methods uppercased.
public final class CorsPolicy: Sendable {
    public let spec: CorsSpec
    private let origins: OriginMatcher
    private let allowsAnyMethod: Bool
    private let methods: CaseInsensitiveByteSet
    private let allowsAnyHeader: Bool
    private let headers: CaseInsensitiveByteSet
    /// The answer to every admitted preflight.
    public let preflightAnswer: PreflightAnswer
    /// What follows `access-control-allow-origin` on an actual response.
    private let responseLines: [UInt8]

    /// Whether responses carry the request's origin (every configuration but `*`), so a cache
    /// in front of the gateway must key on `Origin`.
    public var variesByOrigin: Bool { !origins.allowsAnyOrigin }

    public init(_ spec: CorsSpec) throws(CorsConfigError) {
        var patterns: [OriginPattern] = []
        for origin in spec.allowOrigins {
            patterns.append(try OriginPattern(parsing: origin))
        }
        if spec.allowCredentials, patterns.contains(.any) {
            throw .wildcardOriginWithCredentials
        }
        for method in spec.allowMethods where !(HeaderBytes.isToken(method) && method.utf8.count <= 64) {
            throw .invalidMethod(method)
        }
        for name in spec.allowHeaders + spec.exposeHeaders where !HeaderBytes.isToken(name) {
            throw .invalidHeaderName(name)
        }
        if let maxAge = spec.maxAge, !(-1...86400).contains(maxAge) {
            throw .maxAgeOutOfRange(maxAge)
        }

        self.spec = spec
        origins = OriginMatcher(patterns)
        allowsAnyMethod = spec.allowMethods.contains("*")
        methods = CaseInsensitiveByteSet(spec.allowMethods)
        allowsAnyHeader = spec.allowHeaders.contains("*")
        headers = CaseInsensitiveByteSet(spec.allowHeaders)

        let echoes = !origins.allowsAnyOrigin
        var preflight: [UInt8] = []
        var response: [UInt8] = []
        if !echoes {
            HeaderBytes.appendLine("access-control-allow-origin", "*", to: &preflight)
        }
        if spec.allowCredentials {
            HeaderBytes.appendLine("access-control-allow-credentials", "true", to: &preflight)
            HeaderBytes.appendLine("access-control-allow-credentials", "true", to: &response)
        }
        if !spec.allowMethods.isEmpty {
            HeaderBytes.appendLine("access-control-allow-methods", Self.joined(spec.allowMethods.map { $0.uppercased() }), to: &preflight)
        }
        if !spec.allowHeaders.isEmpty {
            HeaderBytes.appendLine("access-control-allow-headers", Self.joined(spec.allowHeaders.map { $0.lowercased() }), to: &preflight)
        }
        if let maxAge = spec.maxAge {
            HeaderBytes.appendLine("access-control-max-age", String(maxAge), to: &preflight)
        }
        if !spec.exposeHeaders.isEmpty {
            HeaderBytes.appendLine("access-control-expose-headers", Self.joined(spec.exposeHeaders.map { $0.lowercased() }), to: &response)
        }
        if echoes {
            HeaderBytes.appendLine("vary", "origin", to: &preflight)
            HeaderBytes.appendLine("vary", "origin", to: &response)
        }
        preflightAnswer = PreflightAnswer(echoesOrigin: echoes, lines: preflight)
        responseLines = response
    }

    /// Decides an `OPTIONS` request from its `Origin`, `Access-Control-Request-Method` and
    /// `Access-Control-Request-Headers` values (nil when absent).
    ///
    /// The method is admitted when listed (ignoring case), when allowMethods has `*`, or when
    /// it is GET, HEAD or POST, which the Fetch standard lets through whatever the answer lists.
    /// Every requested header must be listed (ignoring case) unless allowHeaders has `*`.
    public func preflight(
        origin: UnsafeRawBufferPointer, requestMethod: UnsafeRawBufferPointer?,
        requestHeaders: UnsafeRawBufferPointer?
    ) -> PreflightDecision {
        let origin = HeaderBytes.trimmed(origin, 0, origin.count)
        guard !origin.isEmpty, let rawMethod = requestMethod else { return .notPreflight }
        let method = HeaderBytes.trimmed(rawMethod, 0, rawMethod.count)
        guard !method.isEmpty else { return .notPreflight }
        guard admits(origin),
              allowsAnyMethod || Self.isSafelistedMethod(method) || methods.contains(method) else {
            return .refuse
        }
        if let requested = requestHeaders, !allowsAnyHeader {
            var start = 0
            for index in 0...requested.count where index == requested.count || requested[index] == UInt8(ascii: ",") {
                let name = HeaderBytes.trimmed(requested, start, index)
                if !name.isEmpty, !headers.contains(name) { return .refuse }
                start = index + 1
            }
        }
        return .allow(preflightAnswer)
    }

    /// Appends the CORS lines for an actual response to a request with this `Origin` value:
    /// `access-control-allow-origin`, then `access-control-allow-credentials`,
    /// `access-control-expose-headers` and `vary: origin` as configured. Appends nothing and
    /// returns false when the origin is empty or not admitted (AWS: "To return CORS headers,
    /// your request must contain an origin header").
    @discardableResult
    public func responseHeaders(origin: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
        let origin = HeaderBytes.trimmed(origin, 0, origin.count)
        guard !origin.isEmpty, admits(origin) else { return false }
        if origins.allowsAnyOrigin {
            out.append(contentsOf: Self.allowAnyOriginLine)
        } else {
            Self.appendAllowOrigin(origin, to: &out)
        }
        out.append(contentsOf: responseLines)
        return true
    }

    /// Whether a backend response header is one the gateway replaces: AWS: "If you configure
    /// CORS for an API, API Gateway ignores CORS headers returned from your backend
    /// integration." These are the six `access-control-*` response headers of the Fetch standard.
    public static func isCorsResponseHeader(_ name: UnsafeRawBufferPointer) -> Bool {
        let prefix = corsHeaderPrefix
        let matchesPrefix = prefix.withUnsafeBufferPointer { HeaderBytes.hasPrefix(name, at: 0, $0) }
        guard matchesPrefix else { return false }
        let rest = UnsafeRawBufferPointer(rebasing: name[prefix.count...])
        return corsHeaderSuffixes.contains(rest)
    }

    private static let corsHeaderPrefix = Array("access-control-".utf8)
    private static let corsHeaderSuffixes = CaseInsensitiveByteSet([
        "allow-origin", "allow-credentials", "allow-methods", "allow-headers", "expose-headers", "max-age",
    ])
    private static let allowAnyOriginLine = Array("access-control-allow-origin: *\r\n".utf8)
    private static let allowOriginPrefix = Array("access-control-allow-origin: ".utf8)

    static func appendAllowOrigin(_ origin: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(contentsOf: allowOriginPrefix)
        out.append(contentsOf: HeaderBytes.trimmed(origin, 0, origin.count))
        out.append(UInt8(ascii: "\r"))
        out.append(UInt8(ascii: "\n"))
    }

    private func admits(_ origin: UnsafeRawBufferPointer) -> Bool {
        origins.allowsAnyOrigin || origins.matchesListedOrigin(origin)
    }

    private static func isSafelistedMethod(_ method: UnsafeRawBufferPointer) -> Bool {
        method.elementsEqual("GET".utf8) || method.elementsEqual("HEAD".utf8) || method.elementsEqual("POST".utf8)
    }

    private static func joined(_ values: [String]) -> String {
        values.joined(separator: ",")
    }
}
