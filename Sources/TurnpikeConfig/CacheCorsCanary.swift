/// An api's CORS configuration (apigatewayv2 `Cors`, the api's `corsConfiguration`).
public struct CorsConfiguration: Sendable, Equatable {
    /// The origins allowed; empty means no origin gets CORS headers.
    public let allowOrigins: [CorsOrigin]
    /// Upper-case HTTP methods, or `"*"`.
    public let allowMethods: [String]
    /// Lower-case header names, or `"*"`.
    public let allowHeaders: [String]
    /// Lower-case header names, or `"*"`.
    public let exposeHeaders: [String]
    /// Seconds a browser may cache a preflight answer (`Access-Control-Max-Age`); nil sends no header.
    /// AWS allows -1 (browsers then do not cache) to 86400.
    public let maxAge: Int?
    /// Sends `Access-Control-Allow-Credentials: true`; never together with a `*` origin.
    public let allowCredentials: Bool

    public init(
        allowOrigins: [CorsOrigin], allowMethods: [String], allowHeaders: [String], exposeHeaders: [String],
        maxAge: Int?, allowCredentials: Bool
    ) {
        self.allowOrigins = allowOrigins
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAge = maxAge
        self.allowCredentials = allowCredentials
    }

    /// Whether a request's `Origin` header value is allowed.
    public func allows(origin: String) -> Bool {
        allowOrigins.contains { $0.matches(origin) }
    }
}

/// One entry of `allowOrigins`, normalised to lower case without a default port.
public enum CorsOrigin: Sendable, Equatable, Hashable {
    /// `*`: every origin.
    case any
    /// `https://app.example.com` or `http://localhost:3000`: exactly that origin.
    case exact(String)
    /// `https://*` (AWS's form): every origin of that scheme.
    case anyHost(scheme: String)
    /// `https://*.example.com[:port]`: every origin whose host ends in `.example.com` (one label or
    /// more before it; not `example.com` itself), with that scheme and port.
    case subdomains(scheme: String, domain: String, port: Int?)

    /// As it is written in the configuration (normalised).
    public var text: String {
        switch self {
        case .any: return "*"
        case let .exact(origin): return origin
        case let .anyHost(scheme): return scheme + "://*"
        case let .subdomains(scheme, domain, port): return scheme + "://*." + domain + (port.map { ":\($0)" } ?? "")
        }
    }

    /// Whether the `Origin` header value `origin` (`scheme://host[:port]`) is this entry's.
    public func matches(_ origin: String) -> Bool {
        switch self {
        case .any:
            return true
        case let .exact(allowed):
            return CorsOrigin.normalised(origin) == allowed
        case let .anyHost(scheme):
            return CorsOrigin.parts(of: origin)?.scheme == scheme
        case let .subdomains(scheme, domain, port):
            guard let parts = CorsOrigin.parts(of: origin), parts.scheme == scheme, parts.port == port else { return false }
            let suffix = "." + domain
            return parts.host.count > suffix.count && parts.host.hasSuffix(suffix)
        }
    }

    /// `scheme://host[:port]` lower-cased, with the scheme's default port dropped; nil when not that shape.
    static func parts(of origin: String) -> (scheme: String, host: String, port: Int?)? {
        let lower = origin.lowercased()
        guard let separator = lower.range(of: "://") else { return nil }
        let scheme = String(lower[..<separator.lowerBound])
        let authority = lower[separator.upperBound...]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isASCIILetterOrDigit || "+-.".contains($0) }),
              scheme.first?.isASCIILetterOrDigit == true, !authority.isEmpty, !authority.contains("/") else { return nil }
        var host = Substring(authority)
        var port: Int?
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                return nil
            }
            host = authority[..<colon]
            port = number
        }
        guard !host.isEmpty else { return nil }
        if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) { port = nil }
        return (scheme, String(host), port)
    }

    static func normalised(_ origin: String) -> String? {
        guard let parts = parts(of: origin) else { return nil }
        return parts.scheme + "://" + parts.host + (parts.port.map { ":\($0)" } ?? "")
    }
}

/// A deployment (Turnpike's declarative form of an API Gateway `Deployment`): a frozen snapshot of
/// routes and integrations that a stage or a canary serves instead of the api's current ones.
public struct Deployment: Sendable, Equatable {
    /// `[a-z0-9]{1,64}`, unique within its api (`deploymentId`).
    public let id: String
    public let description: String?
    /// Validated like the api's routes; their targets name this deployment's integrations.
    public let routes: [Route]
    public let integrations: [Integration]

    public init(id: String, description: String?, routes: [Route], integrations: [Integration]) {
        self.id = id
        self.description = description
        self.routes = routes
        self.integrations = integrations
    }
}

/// A stage's canary (apigateway `CanarySettings`): a share of the stage's requests served by another deployment.
public struct CanarySettings: Sendable, Equatable {
    /// The deployment the canary serves (a deployment of the api).
    public let deploymentId: String
    /// 0 to 100, fractions allowed: the percentage of requests the canary serves.
    public let percentTraffic: Double
    /// Stage variables the canary's requests see instead of the stage's (merged over them).
    public let stageVariableOverrides: [String: String]
    /// Whether canary requests read and fill the stage's cache (AWS's default: false, i.e. they bypass it).
    public let useStageCache: Bool
    /// Extension: keeps a client on one side; nil chooses at random for every request.
    public let sticky: CanaryStickiness?

    public init(
        deploymentId: String, percentTraffic: Double, stageVariableOverrides: [String: String] = [:],
        useStageCache: Bool = false, sticky: CanaryStickiness? = nil
    ) {
        self.deploymentId = deploymentId
        self.percentTraffic = percentTraffic
        self.stageVariableOverrides = stageVariableOverrides
        self.useStageCache = useStageCache
        self.sticky = sticky
    }

    /// The stage variables a canary request sees: the stage's, with the overrides on top.
    public func stageVariables(over stageVariables: [String: String]) -> [String: String] {
        stageVariables.merging(stageVariableOverrides) { _, override in override }
    }
}

/// What a sticky canary keys its choice on (extension).
public enum CanaryStickiness: Sendable, Equatable {
    /// A request header's value (the name lower-cased).
    case header(String)
    /// A cookie's value (the name as written; cookie names are case-sensitive).
    case cookie(String)
}

/// A stage's response cache (apigateway `Stage.cacheClusterEnabled` and its settings); present only when enabled.
public struct StageCacheSettings: Sendable, Equatable {
    /// How big the cache may grow.
    public let capacity: CacheCapacity
    /// Extension: the response header that says `Hit` or `Miss` (lower-case; default `x-cache`).
    public let cacheStatusHeader: String
    /// The stage's default for routes: `Cache-Control: max-age=0` bypasses the cache only for
    /// authorized clients (AWS's default: true). Routes may override; read `RouteCacheSettings`.
    public let requireAuthorizationForCacheControl: Bool
    /// The stage's default for routes: what an unauthorized `max-age=0` gets. Routes may override.
    public let unauthorizedCacheControlHeaderStrategy: UnauthorizedCacheControlHeaderStrategy
    /// Extension: the JWT scopes that authorize `Cache-Control: max-age=0` (Turnpike's stand-in for
    /// the IAM permission `execute-api:InvalidateCache`); a token with any one of them is authorized.
    public let cacheInvalidationScopes: [String]

    /// The scope that authorizes `max-age=0` unless `cacheInvalidationScopes` says otherwise.
    public static let defaultInvalidationScopes = ["execute-api:InvalidateCache"]
    /// The response header that says whether the cache answered, unless `cacheStatusHeader` says otherwise.
    public static let defaultStatusHeader = "x-cache"

    public init(
        capacity: CacheCapacity = .clusterSize(.gb0_5), cacheStatusHeader: String = StageCacheSettings.defaultStatusHeader,
        requireAuthorizationForCacheControl: Bool = true,
        unauthorizedCacheControlHeaderStrategy: UnauthorizedCacheControlHeaderStrategy = .succeedWithResponseHeader,
        cacheInvalidationScopes: [String] = StageCacheSettings.defaultInvalidationScopes
    ) {
        self.capacity = capacity
        self.cacheStatusHeader = cacheStatusHeader
        self.requireAuthorizationForCacheControl = requireAuthorizationForCacheControl
        self.unauthorizedCacheControlHeaderStrategy = unauthorizedCacheControlHeaderStrategy
        self.cacheInvalidationScopes = cacheInvalidationScopes
    }

    /// The byte budget of the cache.
    public var capacityBytes: Int { capacity.bytes }
}

/// A cache's size: one of AWS's cache cluster sizes, or (extension) any number of bytes.
public enum CacheCapacity: Sendable, Equatable {
    case clusterSize(CacheClusterSize)
    case bytes(Int)

    public var bytes: Int {
        switch self {
        case let .clusterSize(size): return size.bytes
        case let .bytes(bytes): return bytes
        }
    }
}

/// AWS's cache cluster sizes in GB (apigateway `CacheClusterSize`).
public enum CacheClusterSize: String, Sendable, Equatable, CaseIterable {
    case gb0_5 = "0.5"
    case gb1_6 = "1.6"
    case gb6_1 = "6.1"
    case gb13_5 = "13.5"
    case gb28_4 = "28.4"
    case gb58_2 = "58.2"
    case gb118 = "118"
    case gb237 = "237"

    /// The size in bytes, reading GB as GiB (2^30 bytes): "0.5" is 536,870,912 bytes.
    public var bytes: Int {
        let tenths: Int = switch self {
        case .gb0_5: 5
        case .gb1_6: 16
        case .gb6_1: 61
        case .gb13_5: 135
        case .gb28_4: 284
        case .gb58_2: 582
        case .gb118: 1180
        case .gb237: 2370
        }
        return tenths * (1 << 30) / 10
    }
}

/// What API Gateway does with `Cache-Control: max-age=0` from a client that may not invalidate
/// (apigateway `UnauthorizedCacheControlHeaderStrategy`).
public enum UnauthorizedCacheControlHeaderStrategy: String, Sendable, Equatable, CaseIterable {
    /// Refuse the request with 403.
    case failWith403 = "FAIL_WITH_403"
    /// Ignore the header (serve from the cache) and add a warning response header. AWS's default.
    case succeedWithResponseHeader = "SUCCEED_WITH_RESPONSE_HEADER"
    /// Ignore the header silently.
    case succeedWithoutResponseHeader = "SUCCEED_WITHOUT_RESPONSE_HEADER"
}

/// A route's cache settings on a stage (from apigateway `MethodSetting` fields in `defaultRouteSettings`
/// and `routeSettings`), with every field resolved: route entry, else `defaultRouteSettings`, else the
/// stage's own (for the two cache-control fields), else AWS's default.
public struct RouteCacheSettings: Sendable, Equatable {
    /// Whether responses are cached. As in AWS, `defaultRouteSettings` enables GET only; use
    /// `Stage.cacheSettings(routeKey:method:)` for the decision.
    public let cachingEnabled: Bool
    /// 0 to 3600 (AWS's default 300); 0 means not cached.
    public let cacheTtlInSeconds: Int
    /// Request values added to the cache key (after method and resource path).
    public let cacheKeyParameters: [CacheKeyParameter]
    /// Accepted for AWS compatibility; entries live in memory only.
    public let cacheDataEncrypted: Bool
    public let requireAuthorizationForCacheControl: Bool
    public let unauthorizedCacheControlHeaderStrategy: UnauthorizedCacheControlHeaderStrategy

    /// AWS's defaults: not cached, TTL 300, no key parameters, authorization required, warning header.
    public static let disabled = RouteCacheSettings()

    public init(
        cachingEnabled: Bool = false, cacheTtlInSeconds: Int = 300, cacheKeyParameters: [CacheKeyParameter] = [],
        cacheDataEncrypted: Bool = false, requireAuthorizationForCacheControl: Bool = true,
        unauthorizedCacheControlHeaderStrategy: UnauthorizedCacheControlHeaderStrategy = .succeedWithResponseHeader
    ) {
        self.cachingEnabled = cachingEnabled
        self.cacheTtlInSeconds = cacheTtlInSeconds
        self.cacheKeyParameters = cacheKeyParameters
        self.cacheDataEncrypted = cacheDataEncrypted
        self.requireAuthorizationForCacheControl = requireAuthorizationForCacheControl
        self.unauthorizedCacheControlHeaderStrategy = unauthorizedCacheControlHeaderStrategy
    }
}

/// A request value in the cache key, named as AWS names method request parameters.
public enum CacheKeyParameter: Sendable, Equatable, Hashable {
    /// `method.request.path.NAME`: a path variable of the route (`{NAME}` or `{NAME+}`).
    case path(String)
    /// `method.request.querystring.NAME` (case-sensitive).
    case querystring(String)
    /// `method.request.header.NAME` (lower-cased).
    case header(String)

    public var text: String {
        switch self {
        case let .path(name): return "method.request.path." + name
        case let .querystring(name): return "method.request.querystring." + name
        case let .header(name): return "method.request.header." + name
        }
    }
}

extension Stage {
    /// The cache settings for a request with `method` on the route `routeKey`; nil when it is not
    /// cached: no stage cache, caching off, TTL 0, or a method other than GET, except that a
    /// `routeSettings` entry with cache fields on a `METHOD /path` route (not ANY) also caches that
    /// method (AWS caches only GET unless a method's own setting enables caching).
    public func cacheSettings(routeKey: String, method: String) -> RouteCacheSettings? {
        guard cache != nil else { return nil }
        let settings: RouteCacheSettings
        if let own = routeCacheSettings[routeKey] {
            let routeMethod = routeKey.split(separator: " ").first.map(String.init)
            guard method == "GET" || (method == routeMethod && routeMethod != "ANY") else { return nil }
            settings = own
        } else {
            guard method == "GET" else { return nil }
            settings = defaultRouteCacheSettings
        }
        guard settings.cachingEnabled, settings.cacheTtlInSeconds > 0 else { return nil }
        return settings
    }
}
