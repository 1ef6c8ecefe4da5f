/// The plain values of one request that a Lambda authorizer event and its identity
/// sources are made from, so the gateway can fill them from its request head and the
/// resolved route without this module knowing either.
public struct AuthorizerRequestValues: Sendable {
    /// One header or query parameter, in arrival order; names as the client wrote them.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var region: String
    public var accountId: String
    public var apiId: String
    /// The stage name (`$default` for an HTTP API's default stage).
    public var stage: String
    public var httpMethod: String
    /// The path as the API sees it: no stage or base path prefix, path parameters filled in.
    public var path: String
    /// The path the client sent (with stage or base path), REST `requestContext.path`;
    /// defaults to `path`.
    public var requestPath: String
    /// Undecoded, without `?`.
    public var rawQueryString: String = ""
    public var headers: [Field] = []
    /// Decoded query parameters, in order, repeats kept.
    public var queryParameters: [Field] = []
    public var pathParameters: [String: String] = [:]
    public var stageVariables: [String: String] = [:]
    /// REST: the resource path (`/pets/{petId}`); HTTP payload 1.0: the route's path.
    public var resource: String
    /// REST resource id (`requestContext.resourceId`).
    public var resourceId: String = ""
    /// HTTP APIs: `GET /pets/{petId}` or `$default`.
    public var routeKey: String = "$default"
    public var domainName: String = ""
    public var domainPrefix: String = ""
    public var requestId: String = ""
    public var protocolName: String = "HTTP/1.1"
    public var sourceIp: String = ""
    /// The request's arrival, milliseconds since 1970.
    public var epochMillis: Int64 = 0
    /// The same instant as `12/Mar/2020:19:03:58 +0000` (`requestTime` / `time`); the
    /// gateway formats it once per request (`AccessLogFormatter.clfTime`).
    public var requestTime: String = ""
    /// REST `requestContext.identity.apiKey`, when the method requires a key.
    public var apiKey: String?
    /// `$context.NAME` values an HTTP API identity source may name (e.g. `routeKey`),
    /// beyond the ones derived from the fields above.
    public var contextVariables: [String: String] = [:]

    public init(region: String, accountId: String, apiId: String, stage: String, httpMethod: String,
                path: String, resource: String) {
        self.region = region
        self.accountId = accountId
        self.apiId = apiId
        self.stage = stage
        self.httpMethod = httpMethod
        self.path = path
        self.requestPath = path
        self.resource = resource
    }

    /// `methodArn` / `routeArn` of this request.
    public var methodArn: MethodArn {
        MethodArn(region: region, accountId: accountId, apiId: apiId, stage: stage, method: httpMethod, path: path)
    }

    /// The last value of a header, names compared case-insensitively (REST's `headers`).
    public func lastHeader(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last(where: { $0.name.lowercased() == lower })?.value
    }

    /// A header's values joined with commas, as HTTP APIs present repeated headers.
    public func joinedHeader(_ name: String) -> String? {
        let lower = name.lowercased()
        let values = headers.filter { $0.name.lowercased() == lower }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ",")
    }

    /// The value of a `$context.NAME` variable for identity sources.
    public func contextVariable(_ name: String) -> String? {
        if let value = contextVariables[name] { return value }
        switch name {
        case "accountId": return accountId
        case "apiId": return apiId
        case "stage": return stage
        case "routeKey": return routeKey
        case "httpMethod": return httpMethod
        case "path": return requestPath
        case "resourcePath": return resource
        case "resourceId": return resourceId
        case "requestId": return requestId
        case "domainName": return domainName
        case "domainPrefix": return domainPrefix
        case "protocol": return protocolName
        case "identity.sourceIp": return sourceIp
        case "identity.userAgent": return lastHeader("user-agent")
        default: return nil
        }
    }
}
