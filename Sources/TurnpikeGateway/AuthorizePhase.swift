import TurnpikeAuth
import TurnpikeConfig
import TurnpikeTraffic

/// What the authorize phase learned about the caller, for the phases after it, parameter
/// mapping (`$context.authorizer.claims.*`, `$context.identity.apiKeyId`) and the log.
public struct AuthResult: Sendable {
    public var token: VerifiedToken?
    public var apiKey: ApiKeyRecord?
    public var plan: PlanBinding?
    /// `$context.authorizer.error`: why the request was refused.
    public var error: String?
    /// What a Lambda authorizer allowed the request as (principal, context, usage key).
    public var lambda: AuthorizedPrincipal?
    /// How long the Lambda authorizer took (ms; 0 when answered from its cache).
    public var lambdaLatencyMs: Int64 = 0

    public init() {}
}

/// Phase 3: the route's JWT authorizer (401/403 as HTTP APIs answer), then its API key
/// (`x-api-key`, 403 when missing, unknown, disabled, or not in a usage plan for this stage).
public enum AuthorizePhase {
    private static let apiKeyHeader: [UInt8] = Array("x-api-key".utf8)

    public static func run(
        request: RequestHead, resolution: Resolution, route: CompiledRoute, snapshot: GatewaySnapshot,
        state: inout PipelineState, epochSeconds: Int64
    ) -> GatewayResponse? {
        let access = route.access
        if let index = access.authorizer {
            let authorizer = snapshot.access.authorizers[index]
            let token = identity(request, source: snapshot.access.identitySources[index])
            if index >= state.tokenCaches.count {
                state.tokenCaches.append(contentsOf: (state.tokenCaches.count...index).map { _ in TokenCache() })
            }
            let decision = authorizer.authorize(
                token: token ?? UnsafeRawBufferPointer(start: nil, count: 0), requiredScopes: access.scopes,
                nowSeconds: epochSeconds, cache: &state.tokenCaches[index])
            switch decision {
            case .allow(let verified):
                state.auth.token = verified
            case .deny(let failure):
                state.auth.error = failure.logDescription
                state.responseHeaders.append(ascii: "www-authenticate: ")
                state.responseHeaders.append(string: failure.wwwAuthenticate)
                state.responseHeaders.append(ascii: "\r\n")
                return failure.status == 403 ? .forbidden : .unauthorized
            }
        }
        if access.apiKeyRequired {
            // apiKeySource AUTHORIZER: the key is the Lambda authorizer's usageIdentifierKey.
            let fromAuthorizer = snapshot.apis[resolution.apiIndex].apiKeyFromAuthorizer
            let usageKey = fromAuthorizer ? state.auth.lambda?.usageIdentifierKey.map { Array($0.utf8) } : nil
            let found: ApiKeyRecord? = if fromAuthorizer {
                usageKey.flatMap { k in k.withUnsafeBytes { snapshot.access.apiKeys.lookup($0) } }
            } else {
                request.header(apiKeyHeader).flatMap { snapshot.access.apiKeys.lookup($0) }
            }
            guard let key = found, key.enabled else {
                state.auth.error = "missing, unknown or disabled API key"
                return .forbidden
            }
            state.auth.apiKey = key
            guard let plan = snapshot.access.plans.plan(forKey: key, apiIndex: resolution.apiIndex, stageIndex: resolution.stageIndex) else {
                state.auth.error = "API key is in no usage plan for this stage"
                return .forbidden
            }
            state.auth.plan = plan
        }
        return nil
    }

    /// The token named by the authorizer's identity source (`Bearer ` prefix accepted).
    static func identity(_ request: RequestHead, source: JWTIdentitySource) -> UnsafeRawBufferPointer? {
        switch source {
        case .header(let name):
            guard let value = request.header(Array(name.utf8)) else { return nil }
            return IdentityToken.extract(headerValue: value)
        case .queryString(let name):
            return QueryString.value(named: name, in: request.query)
        }
    }
}

/// Phase 4: throttling at every level API Gateway has — per client IP (extension), the
/// usage plan's key (and its per-route override), the route's stage settings, the
/// account — most specific first, then the key's quota. A refusal by a later bucket
/// gives earlier ones their token back, so a throttled client does not drain shared limits.
public enum ThrottlePhase {
    public static func run(
        request: RequestHead, route: CompiledRoute, snapshot: GatewaySnapshot,
        state: inout PipelineState, nowNs: UInt64, epochSeconds: Int64
    ) -> GatewayResponse? {
        let access = snapshot.access
        if let clients = access.clientBuckets {
            if case .limited(let after) = clients.admit(key: request.clientIP, nowNs: nowNs) {
                return limited(after, state: &state)
            }
        }
        var chain = ThrottleChain()
        if let plan = state.auth.plan {
            if route.planRouteIndex >= 0 { chain.append(plan.routeBucket(routeIndex: route.planRouteIndex)) }
            chain.append(plan.keyBucket)
        }
        chain.append(route.bucket)
        chain.append(access.account)
        if case .limited(let after) = chain.admit(nowNs: nowNs) {
            access.clientBuckets?.refund(key: request.clientIP, nowNs: nowNs)
            return limited(after, state: &state)
        }
        if let plan = state.auth.plan, case .limited = plan.quota.consume(nowEpochSeconds: epochSeconds) {
            state.auth.error = "usage plan quota exceeded"
            return .limitExceeded
        }
        return nil
    }

    private static func limited(_ retryAfter: Int, state: inout PipelineState) -> GatewayResponse {
        state.responseHeaders.append(ascii: "retry-after: ")
        state.responseHeaders.append(decimal: retryAfter)
        state.responseHeaders.append(ascii: "\r\n")
        return .tooManyRequests
    }
}
