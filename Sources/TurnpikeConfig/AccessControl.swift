/// A JWT authorizer (apigatewayv2 `Authorizer` with `authorizerType: JWT`).
public struct JWTAuthorizerConfig: Sendable, Equatable {
    /// Unique among authorizers; routes name it in `authorizer`.
    public let name: String
    /// Where the token is read from (AWS allows one header or one query string parameter).
    public let identitySource: JWTIdentitySource
    /// Must equal the token's `iss` claim exactly.
    public let issuer: String
    /// The token's `aud` (or, failing that, `client_id`) must be one of these.
    public let audience: [String]
    /// Where the signing keys come from.
    public let jwks: JWKSSource
    /// Extension: a PEM file of CA certificates for fetching keys over https; nil uses the system's.
    public let caBundle: String?
    /// Extension: tolerance for `exp`, `nbf` and `iat`.
    public let clockSkewSeconds: Int
    /// Extension: how often fetched keys are refreshed in the background.
    public let jwksRefreshSeconds: Int

    public init(
        name: String, identitySource: JWTIdentitySource, issuer: String, audience: [String], jwks: JWKSSource,
        caBundle: String?, clockSkewSeconds: Int, jwksRefreshSeconds: Int
    ) {
        self.name = name
        self.identitySource = identitySource
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.caBundle = caBundle
        self.clockSkewSeconds = clockSkewSeconds
        self.jwksRefreshSeconds = jwksRefreshSeconds
    }
}

/// Where a JWT authorizer finds the token: `$request.header.NAME` or `$request.querystring.NAME`.
public enum JWTIdentitySource: Sendable, Equatable {
    /// A header, lowercased; an `Authorization`-style `Bearer ` prefix is accepted on the value.
    case header(String)
    /// A query string parameter, as written (case-sensitive).
    case queryString(String)
}

/// Where a JWT authorizer's signing keys (a JWKS document) come from.
public enum JWKSSource: Sendable, Equatable {
    /// Extension: a JWKS file, resolved against the config file's folder at load time.
    case file(path: String)
    /// Extension: an http(s) URL serving the JWKS.
    case url(String)
    /// AWS's way: `{issuer}/.well-known/openid-configuration` names the `jwks_uri`.
    case discovery
}

/// How a route is authorized (apigatewayv2 `Route.authorizationType`).
public enum AuthorizationType: String, Sendable, Equatable, CaseIterable {
    case none = "NONE"
    case jwt = "JWT"
    /// A Lambda authorizer (REQUEST or TOKEN).
    case custom = "CUSTOM"
}

/// Where API keys are read from (apigateway `RestApi.apiKeySource`).
public enum ApiKeySource: String, Sendable, Equatable, CaseIterable {
    /// The `x-api-key` request header.
    case header = "HEADER"
    /// The Lambda authorizer's `usageIdentifierKey`.
    case authorizer = "AUTHORIZER"
}

/// An API key (apigateway `ApiKey`); requests present its value. Printing one hides the value.
public struct ApiKeyConfig: Sendable, Equatable, CustomDebugStringConvertible {
    /// Given in the file, or derived from the name so that it survives restarts.
    public let id: String
    /// Unique among keys; usage plans name it in `apiKeys`.
    public let name: String
    /// The secret the client sends; from `value`, or from the environment via `valueFrom: env:NAME`.
    public let value: String
    /// A disabled key is refused (403) like an unknown one.
    public let enabled: Bool
    public let description: String?

    public init(id: String, name: String, value: String, enabled: Bool, description: String?) {
        self.id = id
        self.name = name
        self.value = value
        self.enabled = enabled
        self.description = description
    }

    /// Everything but the secret, e.g. in test failures and debug dumps of a config.
    public var debugDescription: String {
        let about = description.map { ", description: \(String(reflecting: $0))" } ?? ""
        return "ApiKeyConfig(id: \"\(id)\", name: \"\(name)\", value: <\(value.count) characters>, enabled: \(enabled)\(about))"
    }
}

/// A usage plan (apigateway `UsagePlan`): per-key throttle and quota over some api stages.
public struct UsagePlanConfig: Sendable, Equatable {
    /// Given in the file, or derived from the name so that it survives restarts.
    public let id: String
    /// Unique among usage plans.
    public let name: String
    public let description: String?
    public let apiStages: [UsagePlanApiStage]
    /// Applies to each key separately; nil means no per-key throttle.
    public let throttle: ThrottleSettings?
    /// Applies to each key separately; nil means no quota.
    public let quota: QuotaSettings?
    /// The names of the keys in the plan.
    public let apiKeyNames: [String]

    public init(
        id: String, name: String, description: String?, apiStages: [UsagePlanApiStage],
        throttle: ThrottleSettings?, quota: QuotaSettings?, apiKeyNames: [String]
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.apiStages = apiStages
        self.throttle = throttle
        self.quota = quota
        self.apiKeyNames = apiKeyNames
    }
}

/// One api stage a usage plan covers, with optional per-route throttles (apigateway `ApiStage`).
public struct UsagePlanApiStage: Sendable, Equatable {
    public let apiName: String
    public let stageName: String
    /// Keyed by a route key of the api (normalised, e.g. `GET /pets/{petId}`); per key, overrides the plan's throttle.
    public let routeThrottles: [String: ThrottleSettings]

    public init(apiName: String, stageName: String, routeThrottles: [String: ThrottleSettings]) {
        self.apiName = apiName
        self.stageName = stageName
        self.routeThrottles = routeThrottles
    }
}

/// A token bucket: `rateLimit` requests a second steady, `burstLimit` the bucket size.
public struct ThrottleSettings: Sendable, Equatable {
    public let burstLimit: Int
    public let rateLimit: Double

    /// AWS's account-level default per region: 10,000 requests a second, burst 5,000.
    public static let accountDefault = ThrottleSettings(burstLimit: 5000, rateLimit: 10000)

    public init(burstLimit: Int, rateLimit: Double) {
        self.burstLimit = burstLimit
        self.rateLimit = rateLimit
    }
}

/// A usage plan quota (apigateway `QuotaSettings`): at most `limit` requests a period, per key.
public struct QuotaSettings: Sendable, Equatable {
    public let limit: Int
    public let period: QuotaPeriodUnit
    /// The day the period starts (the AWS SDKs' reading of `offset`): 0 for DAY; 0 (Sunday) to
    /// 6 (Saturday) for WEEK; 0 (the 1st) to 30 (the 31st) for MONTH, where a month without that
    /// day starts its period on its last day (as TurnpikeTraffic's `QuotaPeriod`). Periods are UTC.
    public let offset: Int

    public init(limit: Int, period: QuotaPeriodUnit, offset: Int) {
        self.limit = limit
        self.period = period
        self.offset = offset
    }
}

/// The period a quota counts over (apigateway `QuotaPeriodType`).
public enum QuotaPeriodUnit: String, Sendable, Equatable, CaseIterable {
    case day = "DAY"
    case week = "WEEK"
    case month = "MONTH"

    /// The offsets valid for this period: the days a period can start on.
    public var offsetRange: ClosedRange<Int> {
        switch self {
        case .day: 0...0
        case .week: 0...6
        case .month: 0...30
        }
    }
}
