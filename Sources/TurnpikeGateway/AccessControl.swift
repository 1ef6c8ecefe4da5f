import Synchronization
import TurnpikeAuth
import TurnpikeConfig
import TurnpikeTraffic

/// Keeps access-control state alive across reloads: JWT authorizers (with their JWKS
/// refresh threads), throttle buckets and the quota store, keyed by what they were
/// built from. A reload that does not change an authorizer or a limit keeps its state.
public final class AccessControlRegistry: Sendable {
    private struct State {
        var authorizers: [String: JWTAuthorizer] = [:]
        var buckets: [String: GCRABucket] = [:]
        var clientBuckets: [String: ClientBuckets] = [:]
        var store: QuotaStore?
    }

    private let state = Mutex(State())
    private let log: @Sendable (String) -> Void
    private let opensQuotaStore: Bool

    /// `opensQuotaStore: false` (for `turnpike validate`) compiles without touching disk.
    public init(opensQuotaStore: Bool = true, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.opensQuotaStore = opensQuotaStore
        self.log = log
    }

    func authorizer(_ spec: JWTAuthorizerSpec) throws(SnapshotError) -> JWTAuthorizer {
        let key = String(describing: spec)
        if let existing = state.withLock({ $0.authorizers[key] }) { return existing }
        let created: JWTAuthorizer
        do {
            created = try JWTAuthorizer(spec: spec, log: log)
        } catch {
            throw SnapshotError(message: "authorizer \(spec.name): \(error.description)")
        }
        return state.withLock { s in
            if let existing = s.authorizers[key] {
                created.shutdown()
                return existing
            }
            s.authorizers[key] = created
            return created
        }
    }

    /// One bucket per level identity and limits: changing a limit starts a fresh bucket.
    func bucket(_ identity: String, _ spec: ThrottleSpec) throws(SnapshotError) -> GCRABucket {
        let key = "\(identity)|\(spec.burstLimit)|\(spec.rateLimit)"
        if let b = state.withLock({ $0.buckets[key] }) { return b }
        let b: GCRABucket
        do { b = try GCRABucket(spec) } catch { throw SnapshotError(message: "\(identity): \(error.message)") }
        return state.withLock { s in
            if let existing = s.buckets[key] { return existing }
            s.buckets[key] = b
            return b
        }
    }

    func clientBuckets(_ spec: ThrottleSpec) throws(SnapshotError) -> ClientBuckets {
        let key = "\(spec.burstLimit)|\(spec.rateLimit)"
        if let b = state.withLock({ $0.clientBuckets[key] }) { return b }
        let b: ClientBuckets
        do { b = try ClientBuckets(throttle: spec) } catch { throw SnapshotError(message: "settings.clientIpThrottle: \(error.message)") }
        return state.withLock { s in
            if let existing = s.clientBuckets[key] { return existing }
            s.clientBuckets[key] = b
            return b
        }
    }

    /// The quota store is opened once, at the first configuration's path.
    func store(path: String) throws(SnapshotError) -> QuotaStore? {
        guard opensQuotaStore else { return nil }
        if let s = state.withLock({ $0.store }) { return s }
        let created: QuotaStore
        do { created = try QuotaStore(path: path) } catch {
            throw SnapshotError(message: "settings.quotaStorePath \(path): \(error.message)")
        }
        return state.withLock { s in
            if let existing = s.store {
                created.close()
                return existing
            }
            s.store = created
            return created
        }
    }

    public var quotaStore: QuotaStore? { state.withLock { $0.store } }

    /// Stops refresh threads of authorizers no current snapshot uses.
    public func retire(keeping live: [JWTAuthorizer]) {
        let ids = Set(live.map { ObjectIdentifier($0) })
        let retired = state.withLock { s -> [JWTAuthorizer] in
            let gone = s.authorizers.filter { !ids.contains(ObjectIdentifier($0.value)) }
            for (key, _) in gone { s.authorizers[key] = nil }
            return Array(gone.values)
        }
        for a in retired { a.shutdown() }
    }

    /// At exit: stop refreshers, write quota counts.
    public func close() {
        let (authorizers, store) = state.withLock { s in (Array(s.authorizers.values), s.store) }
        for a in authorizers { a.shutdown() }
        store?.close()
    }
}

/// How one route is protected, resolved at load time.
public struct RouteAccess: Sendable {
    /// Index into AccessControl.authorizers; nil: no JWT.
    public let authorizer: Int?
    public let scopes: [String]
    public let apiKeyRequired: Bool

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

    init(config: GatewayConfig, registry: AccessControlRegistry, nowEpochSeconds: Int64) throws(SnapshotError) {
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
