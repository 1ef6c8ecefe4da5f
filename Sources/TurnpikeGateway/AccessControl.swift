import TurnpikeAuth
import TurnpikeConfig
import TurnpikeTraffic

/// How one route is protected, resolved at load time.
public struct RouteAccess: Sendable {
    /// Index into AccessControl.authorizers; nil: no JWT.
    public let authorizer: Int?
    public let scopes: [String]
    public let apiKeyRequired: Bool
    /// Index into GatewaySnapshot.lambdaAuthorizers; nil: no Lambda authorizer.
    public var lambdaAuthorizer: Int? = nil

    public static let open = RouteAccess(authorizer: nil, scopes: [], apiKeyRequired: false)
}

/// A snapshot's access control: authorizers, keys, plans and the buckets every worker shares.
public final class AccessControl: Sendable {
    public let authorizers: [JWTAuthorizer]
    /// Where each authorizer finds its token.
    public let identitySources: [JWTIdentitySource]
    public let apiKeys: ApiKeyRegistry
    public let plans: UsagePlanSet
    public let account: GCRABucket
    public let clientBuckets: ClientBuckets?

    init(config: GatewayConfig, registry: SharedStateRegistry, nowEpochSeconds: Int64) throws(SnapshotError) {
        var authorizers: [JWTAuthorizer] = []
        var sources: [JWTIdentitySource] = []
        for a in config.authorizers {
            let jwks: TurnpikeAuth.JWKSSource
            switch a.jwks {
            case .file(let path): jwks = .file(path: path)
            case .url(let url): jwks = .url(url)
            case .discovery: jwks = .discovery
            }
            authorizers.append(try registry.authorizer(JWTAuthorizerSpec(
                name: a.name, issuer: a.issuer, audiences: a.audience, jwksSource: jwks, caBundle: a.caBundle,
                clockSkewSeconds: Int64(a.clockSkewSeconds), jwksRefreshSeconds: Int64(a.jwksRefreshSeconds))))
            sources.append(a.identitySource)
        }
        self.authorizers = authorizers
        identitySources = sources
        do {
            apiKeys = try ApiKeyRegistry(keys: config.apiKeys.map {
                ApiKeySpec(id: $0.id, name: $0.name, value: $0.value, enabled: $0.enabled)
            })
        } catch {
            throw SnapshotError(message: "apiKeys: \(error.message)")
        }
        let store = config.usagePlans.isEmpty ? registry.quotaStore : try registry.store(path: config.settings.quotaStorePath)
        var planSpecs: [UsagePlanSpec] = []
        for plan in config.usagePlans {
            var stages: [ApiStageSpec] = []
            for s in plan.apiStages {
                guard let a = config.apis.firstIndex(where: { $0.name == s.apiName }),
                      let st = config.apis[a].stages.firstIndex(where: { $0.name == s.stageName })
                else { throw SnapshotError(message: "usage plan \(plan.name): unknown api stage \(s.apiName)/\(s.stageName)") }
                stages.append(ApiStageSpec(apiIndex: a, stageIndex: st, routeThrottles: s.routeThrottles.map {
                    RouteThrottleSpec(routeKey: $0.key, throttle: ThrottleSpec(burstLimit: $0.value.burstLimit, rateLimit: $0.value.rateLimit))
                }))
            }
            let keyIds = plan.apiKeyNames.compactMap { name in config.apiKeys.first { $0.name == name }?.id }
            planSpecs.append(UsagePlanSpec(
                id: plan.id, name: plan.name, apiStages: stages,
                throttle: plan.throttle.map { ThrottleSpec(burstLimit: $0.burstLimit, rateLimit: $0.rateLimit) },
                quota: plan.quota.map { QuotaSpec(limit: $0.limit, period: QuotaPeriodType(rawValue: $0.period.rawValue)!, offset: $0.offset) },
                keyIds: keyIds))
        }
        do {
            plans = try UsagePlanSet(
                plans: planSpecs, keys: apiKeys,
                resolveRoute: { apiIndex, routeKey in config.apis[apiIndex].routes.firstIndex { $0.routeKey == routeKey } },
                store: store, nowEpochSeconds: nowEpochSeconds)
        } catch let error as TrafficConfigError {
            throw SnapshotError(message: "usagePlans: \(error.message)")
        } catch {
            throw SnapshotError(message: "usagePlans: \(error)")
        }
        let t = config.settings.throttle
        account = try registry.bucket("account", ThrottleSpec(burstLimit: t.burstLimit, rateLimit: t.rateLimit))
        clientBuckets = try config.settings.clientIpThrottle.map { (c) throws(SnapshotError) in
            try registry.clientBuckets(ThrottleSpec(burstLimit: c.burstLimit, rateLimit: c.rateLimit))
        }
    }
}
