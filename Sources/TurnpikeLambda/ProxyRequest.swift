/// What a proxy event is built from: the client's request and the facts API Gateway adds,
/// copied out of the transport's buffers (the event is built once the body has arrived).
public struct ProxyRequest: Sendable, Equatable {
    public enum ApiKind: Sendable, Equatable {
        /// HTTP APIs: header names lower-cased in events.
        case http
        /// REST APIs: header names as the client sent them.
        case rest
    }

    public var apiKind: ApiKind = .http
    public var method: String
    /// The request target's path as received (percent-encoding kept).
    public var rawPath: String
    /// The path after the base path mapping (REST `path`, with the stage removed).
    public var path: String
    /// After '?', without it ("" when none).
    public var rawQueryString: String
    /// In arrival order, names as received.
    public var headers: [(name: String, value: String)]
    /// `GET /users/{userId}` or `$default`.
    public var routeKey: String
    /// The route's resource path (`/users/{userId}`); the raw path for `$default`.
    public var resource: String
    /// Decoded path parameters in route order.
    public var pathParameters: [(name: String, value: String)]
    public var stageVariables: [(name: String, value: String)]
    public var accountId: String = "000000000000"
    public var apiId: String
    public var stage: String
    public var requestId: String
    /// REST's `extendedRequestId`; the request id unless set.
    public var extendedRequestId: String?
    /// Milliseconds since the epoch when the request arrived.
    public var epochMs: UInt64
    /// The same instant as `09/Apr/2015:12:34:56 +0000`.
    public var requestTime: String
    public var sourceIp: String
    /// `HTTP/1.1`.
    public var protocolName: String
    /// The Host the client called (`{apiId}.execute-api...` or a custom domain).
    public var domainName: String
    /// What the authorizer decided; nil when none ran.
    public var authorizer: Authorizer?
    /// REST with an API key: the key and its id for `identity`.
    public var apiKey: String?
    public var apiKeyId: String?

    public struct ContextMember: Sendable, Equatable {
        public let key: String
        public let valueJSON: [UInt8]
        public init(key: String, valueJSON: [UInt8]) {
            self.key = key
            self.valueJSON = valueJSON
        }
    }

    /// An authorizer's outcome as the events carry it.
    public enum Authorizer: Sendable, Equatable {
        /// A JWT authorizer: claims (already JSON text) and scopes.
        case jwt(claimsJSON: [UInt8], scopes: [String]?)
        /// A Lambda authorizer: principalId (nil in simple responses) and its context's members as JSON text.
        case lambda(principalId: String?, context: [ContextMember], integrationLatency: Int64)
    }

    public init(
        method: String, rawPath: String, path: String, rawQueryString: String,
        headers: [(name: String, value: String)], routeKey: String, resource: String,
        pathParameters: [(name: String, value: String)], stageVariables: [(name: String, value: String)],
        apiId: String, stage: String, requestId: String, epochMs: UInt64, requestTime: String, sourceIp: String,
        protocolName: String = "HTTP/1.1", domainName: String
    ) {
        self.method = method
        self.rawPath = rawPath
        self.path = path
        self.rawQueryString = rawQueryString
        self.headers = headers
        self.routeKey = routeKey
        self.resource = resource
        self.pathParameters = pathParameters
        self.stageVariables = stageVariables
        self.apiId = apiId
        self.stage = stage
        self.requestId = requestId
        self.epochMs = epochMs
        self.requestTime = requestTime
        self.sourceIp = sourceIp
        self.protocolName = protocolName
        self.domainName = domainName
    }

    public static func == (a: ProxyRequest, b: ProxyRequest) -> Bool {
        a.method == b.method && a.rawPath == b.rawPath && a.rawQueryString == b.rawQueryString
            && a.headers.map { [$0.name, $0.value] } == b.headers.map { [$0.name, $0.value] }
            && a.routeKey == b.routeKey && a.requestId == b.requestId
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name }?.value
    }

    /// `domainPrefix`: the first label of the host.
    var domainPrefix: String {
        String(domainName.split(separator: ".", maxSplits: 1).first ?? Substring(domainName))
    }

    /// Query parameters in order, names and values percent-decoded.
    public var queryParameters: [(name: String, value: String)] {
        guard !rawQueryString.isEmpty else { return [] }
        return rawQueryString.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.percentDecoded(parts[0]), parts.count > 1 ? Self.percentDecoded(parts[1]) : "")
        }
    }

    static func percentDecoded(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Whether API Gateway hands this body to the function base64-encoded: HTTP APIs encode
    /// everything that is not text (by Content-Type); REST APIs only the configured binary
    /// media types.
    public func bodyIsBinary(binaryMediaTypes: [String]) -> Bool {
        let type = Self.mediaType(header("content-type"))
        switch apiKind {
        case .rest:
            return Self.matches(type, binaryMediaTypes)
        case .http:
            if type.hasPrefix("text/") { return false }
            let textTypes = ["application/json", "application/javascript", "application/xml", "application/ecmascript"]
            if textTypes.contains(type) || type.hasSuffix("+json") || type.hasSuffix("+xml") { return false }
            return true
        }
    }

    /// Whether a base64 body from the function goes to the client decoded: always on HTTP
    /// APIs; on REST APIs when the request's first Accept type is a binary media type.
    public func decodesBase64Response(binaryMediaTypes: [String]) -> Bool {
        guard apiKind == .rest else { return true }
        let accept = header("accept").flatMap { $0.split(separator: ",").first.map(String.init) }
        return Self.matches(Self.mediaType(accept), binaryMediaTypes)
    }

    /// `type/subtype`, lower-cased, without parameters ("" when absent).
    static func mediaType(_ value: String?) -> String {
        (value ?? "").split(separator: ";").first.map { $0.trimmingSpaces.lowercased() } ?? ""
    }

    static func matches(_ type: String, _ patterns: [String]) -> Bool {
        !type.isEmpty && patterns.contains { pattern in
            if pattern == "*/*" { return true }
            if pattern.hasSuffix("/*") { return type.hasPrefix(String(pattern.lowercased().dropLast())) }
            return pattern.lowercased() == type
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
