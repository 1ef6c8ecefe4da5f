import TurnpikeAuth
import TurnpikeCache
import TurnpikeConfig
import TurnpikeCors
import TurnpikeLambda
import TurnpikeRouting

/// The request pipeline, top to bottom. Each phase is a small type with one entry point
/// that either passes the exchange on or ends it with a gateway response:
///
///   1. ResolvePhase    host + base path + stage (and canary) → API and stage; route match
///   2. CorsPhase       preflights answered (204); CORS fields for the response prepared
///   3. LimitsPhase     payload limit (413) before anything is sent upstream
///   4. AuthorizePhase  JWT authorizer (401/403), API key and usage plan (403)
///   5. ThrottlePhase   client IP, plan key, route, account buckets (429); quota (429)
///   6. CachePhase      stage cache: hit, or one filler per key and the rest wait
///   7. IntegratePhase  HTTP_PROXY: endpoint choice and the upstream request head
///
/// The transport then streams the body, and on the way back ResponseHeadWriter (the
/// respond phase: CORS fields, cache status, request id) and AccessLogFormatter (the log
/// phase) finish the exchange.
public enum Pipeline {
    public static func run(
        request: RequestHead, snapshot: GatewaySnapshot, state: inout PipelineState,
        requestId: RequestId, nowNs: UInt64, epochMs: UInt64, cacheWaiter: CacheWaiter = CacheWaiter(workerIndex: 0, token: 0),
        authorized: AuthorizedPrincipal? = nil
    ) -> PipelineDecision {
        state.auth = AuthResult()
        // A request coming back from its Lambda authorizer runs again with what it allowed.
        state.auth.lambda = authorized
        state.responseHeaders.removeAll(keepingCapacity: true)
        state.corsHeaders.removeAll(keepingCapacity: true)
        let resolution: Resolution
        switch ResolvePhase.run(request: request, snapshot: snapshot, captures: &state.captures, random: &state.random) {
        case .success(let r): resolution = r
        case .failure(let response):
            // A preflight for a path no route serves is still answered when the API has CORS.
            if response == .notFound, let policy = ResolvePhase.corsPolicy(request: request, snapshot: snapshot) {
                if CorsPhase.answersPreflight(request: request, policy: policy, explicitOptionsRoute: false, state: &state) {
                    return .preflight(nil)
                }
                CorsPhase.prepareResponseHeaders(request: request, policy: policy, state: &state)
                state.responseHeaders.append(contentsOf: state.corsHeaders)
            }
            return .respond(response, nil)
        }
        // What the request resolved to, looked up once: each lookup costs reference counting.
        let served = Served(snapshot: snapshot, resolution: resolution)
        if let policy = served.api.cors {
            if CorsPhase.answersPreflight(
                request: request, policy: policy, explicitOptionsRoute: served.route.isExplicitOptions,
                state: &state)
            {
                return .preflight(resolution)
            }
            CorsPhase.prepareResponseHeaders(request: request, policy: policy, state: &state)
        }
        let decision = decide(
            request: request, resolution: resolution, served: served, snapshot: snapshot, state: &state,
            requestId: requestId, nowNs: nowNs, epochMs: epochMs, cacheWaiter: cacheWaiter)
        if case .respond = decision, !state.corsHeaders.isEmpty {
            state.responseHeaders.append(contentsOf: state.corsHeaders)
        }
        return decision
    }

    private static func decide(
        request: RequestHead, resolution: Resolution, served: Served, snapshot: GatewaySnapshot,
        state: inout PipelineState, requestId: RequestId, nowNs: UInt64, epochMs: UInt64, cacheWaiter: CacheWaiter
    ) -> PipelineDecision {
        if let response = LimitsPhase.run(request: request, snapshot: snapshot) {
            return .respond(response, resolution)
        }
        let epochSeconds = Int64(epochMs / 1000)
        if let index = served.route.access.lambdaAuthorizer, state.auth.lambda == nil {
            let values = LambdaRequest.authorizerValues(
                request: request, resolution: resolution, served: served, captures: state.captures,
                requestId: requestId, epochMs: epochMs)
            switch snapshot.lambdaAuthorizers[index].authorizer.begin(
                values, cache: snapshot.authorizerCache, nowSeconds: epochSeconds)
            {
            case .decided(.allow(let principal), _):
                state.auth.lambda = principal
            case .decided(let decision, let failure):
                state.auth.error = failure?.logDescription ?? "refused by the Lambda authorizer (cached)"
                return .authorizerRefused(decision, resolution)
            case .invoke(let invocation):
                return .authorize(AuthorizerPlan(resolution: resolution, authorizer: index, invocation: invocation))
            }
        }
        if let response = AuthorizePhase.run(
            request: request, resolution: resolution, route: served.route, snapshot: snapshot, state: &state,
            epochSeconds: epochSeconds)
        {
            return .respond(response, resolution)
        }
        if let response = ThrottlePhase.run(
            request: request, route: served.route, snapshot: snapshot, state: &state, nowNs: nowNs,
            epochSeconds: epochSeconds)
        {
            return .respond(response, resolution)
        }
        var intent: CacheIntent? = nil
        switch CachePhase.run(
            request: request, resolution: resolution, served: served, state: &state, waiter: cacheWaiter, nowNs: nowNs)
        {
        case .pass: break
        case .hit(let response): return .cacheHit(response, resolution)
        case .refuse(let response): return .respond(response, resolution)
        case .intent(let i): intent = i
        }
        if let target = served.route.integration.lambda {
            // Lambda responses are not stored in the stage cache (yet): waiters go on their own.
            if case .fill(let key, let stageCache, _)? = intent { state.abandonedWaiters = stageCache.cache.abandon(key) }
            return .invoke(LambdaPlan(
                resolution: resolution, target: target, timeoutMillis: served.route.integration.timeoutMillis))
        }
        var decision = IntegratePhase.run(
            request: request, resolution: resolution, served: served, snapshot: snapshot, state: &state,
            requestId: requestId, nowNs: nowNs, epochMs: epochMs)
        if case .proxy(var plan) = decision {
            plan.cache = intent
            decision = .proxy(plan)
        } else if let intent {
            // No endpoint: the fill will not happen; waiters must not wait for it.
            if case .fill(let key, let stageCache, _) = intent { state.abandonedWaiters = stageCache.cache.abandon(key) }
        }
        return decision
    }
}

/// The compiled pieces a resolved request is served by.
public struct Served {
    public let api: CompiledApi
    public let stage: CompiledStage
    public let variant: StageVariant
    public let route: CompiledRoute

    public init(snapshot: GatewaySnapshot, resolution: Resolution) {
        api = snapshot.apis[resolution.apiIndex]
        stage = api.stages[resolution.stageIndex]
        variant = stage.variant(canary: resolution.canary)
        route = variant.routes[resolution.routeIndex]
    }
}

/// Per-worker scratch the pipeline reuses across requests, so deciding allocates nothing.
public struct PipelineState {
    public var captures = PathCaptures(capacity: 16)
    public var balancer = TargetGroupBalancer()
    public var upstreamHead: [UInt8] = []
    /// The caller as the authorize phase found it (this request only).
    public var auth = AuthResult()
    /// Extra fields for a gateway response (`www-authenticate`, `retry-after`).
    public var responseHeaders: [UInt8] = []
    /// Verified tokens, one cache per authorizer, owned by this worker.
    public var tokenCaches: [TokenCache] = []
    /// Canary choices.
    public var random = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))
    /// CORS fields for this request's response (empty: none).
    public var corsHeaders: [UInt8] = []
    public var cacheKeys = CacheKeyBuilder()
    /// Waiters a failed fill released (the server sends them upstream themselves).
    public var abandonedWaiters: [CacheWaiter] = []

    public init() {
        upstreamHead.reserveCapacity(8192)
        responseHeaders.reserveCapacity(256)
    }
}

/// Where a request landed: API, stage, route and the path left after the base path/stage.
public struct Resolution: Sendable, Equatable {
    public var apiIndex: Int
    public var stageIndex: Int
    public var routeIndex: Int
    public var pathStart: Int
    public var domainIndex: Int?
    /// Served by the stage's canary deployment.
    public var canary = false
}

/// What the transport should do with the exchange.
public enum PipelineDecision {
    case respond(GatewayResponse, Resolution?)
    /// A CORS preflight: 204 with the fields in PipelineState.responseHeaders.
    case preflight(Resolution?)
    /// Answer from the stage cache.
    case cacheHit(CachedResponse, Resolution)
    /// The upstream head is in PipelineState.upstreamHead.
    case proxy(ProxyPlan)
    /// AWS_PROXY: read the body, build the event, invoke the function.
    case invoke(LambdaPlan)
    /// The route's Lambda authorizer must be invoked first; then the request runs again
    /// with `authorized` (or is refused).
    case authorize(AuthorizerPlan)
    /// A Lambda authorizer (or its cached answer) refused: its status and body.
    case authorizerRefused(AuthorizerDecision, Resolution)
}

/// A Lambda authorizer invocation a request waits for.
public struct AuthorizerPlan {
    public var resolution: Resolution
    /// Index into GatewaySnapshot.lambdaAuthorizers.
    public var authorizer: Int
    public var invocation: LambdaAuthorizer.Invocation
}

/// A Lambda proxy exchange ready to go once its body is read.
public struct LambdaPlan {
    public var resolution: Resolution
    public var target: LambdaTarget
    public var timeoutMillis: UInt32
}

/// An HTTP_PROXY exchange ready to go.
public struct ProxyPlan {
    public var resolution: Resolution
    public var targetGroup: Int
    public var endpoint: EndpointState
    public var timeoutMillis: UInt32
    /// What to do with the response for the stage cache; nil: not cached.
    public var cache: CacheIntent? = nil
    /// The integration has response parameter mappings.
    public var hasResponseMappings = false
}

/// Phase 1: API, stage and route.
public enum ResolvePhase {
    public static func run(
        request: RequestHead, snapshot: GatewaySnapshot, captures: inout PathCaptures,
        random: inout SplitMix64
    ) -> Result<Resolution, GatewayResponse> {
        let selector = snapshot.selectors[request.listenerIndex]
        let selected: SelectedApi
        switch selector.select(host: request.host, path: request.path) {
        case .selected(let s): selected = s
        case .noApi, .noStage: return .failure(.notFound)
        case .noMapping: return .failure(.forbidden)
        }
        if let domain = selected.domainIndex, let name = snapshot.mutualTLSDomains[domain],
           !connectionServes(name, request)
        {
            return .failure(.misdirected)
        }
        let stage = snapshot.apis[selected.apiIndex].stages[selected.stageIndex]
        var variant = stage.main
        var canary = false
        if let c = stage.canary, c.splitter.routesToCanary(random: random.next(), stickyValue: stickyValue(request, c.splitter)) {
            variant = c.variant
            canary = true
        }
        let path = UnsafeRawBufferPointer(rebasing: request.path[selected.pathStart...])
        guard let route = variant.routeTable.match(method: request.method, path: path, captures: &captures) else {
            return .failure(snapshot.apis[selected.apiIndex].isRest ? .missingAuthenticationToken : .notFound)
        }
        return .success(Resolution(
            apiIndex: selected.apiIndex, stageIndex: selected.stageIndex, routeIndex: route,
            pathStart: selected.pathStart, domainIndex: selected.domainIndex, canary: canary))
    }
}

extension ResolvePhase {
    /// Whether the TLS connection was made for (and verified by) a mutual-TLS domain:
    /// its SNI names the domain (or matches its wildcard) and a client certificate passed.
    static func connectionServes(_ domain: [UInt8], _ request: RequestHead) -> Bool {
        guard request.isTLS, !request.clientCertSubject.isEmpty, !request.tlsServerName.isEmpty else { return false }
        let sni = request.tlsServerName
        if domain.count > 2 && domain[0] == UInt8(ascii: "*") && domain[1] == UInt8(ascii: ".") {
            // One label, as the certificate match: "x.example.com" for "*.example.com".
            guard let dot = sni.firstIndex(of: UInt8(ascii: ".")), dot > 0 else { return false }
            let rest = UnsafeRawBufferPointer(rebasing: sni[dot...])
            return ASCII.equalsLowercased(rest, Array(domain[1...]))
        }
        return ASCII.equalsLowercased(sni, domain)
    }

    /// The CORS policy of the API the host and path select, when no route matched.
    static func corsPolicy(request: RequestHead, snapshot: GatewaySnapshot) -> CorsPolicy? {
        guard case .selected(let s) = snapshot.selectors[request.listenerIndex].select(host: request.host, path: request.path)
        else { return nil }
        return snapshot.apis[s.apiIndex].cors
    }

    /// The header or cookie value a sticky canary hashes.
    static func stickyValue(_ request: RequestHead, _ splitter: CanarySplitter) -> UnsafeRawBufferPointer? {
        guard let sticky = splitter.sticky else { return nil }
        switch sticky {
        case .header:
            return request.header(splitter.stickyName)
        case .cookie:
            for field in request.headers where ASCII.equalsLowercased(field.name, "cookie") {
                let found = splitter.stickyName.withUnsafeBytes { CanarySplitter.cookieValue(named: $0, in: field.value) }
                if let found { return found }
            }
            return nil
        }
    }
}

/// Phase 2: a declared body over the payload limit never reaches an integration.
/// (Chunked bodies are counted by the transport as they stream.)
public enum LimitsPhase {
    public static func run(request: RequestHead, snapshot: GatewaySnapshot) -> GatewayResponse? {
        request.contentLength > snapshot.maxBodyBytes ? .requestTooLarge : nil
    }
}

/// Phase 3: HTTP_PROXY — an endpoint of the target group, and the upstream head.
public enum IntegratePhase {
    public static func run(
        request: RequestHead, resolution: Resolution, served: Served, snapshot: GatewaySnapshot,
        state: inout PipelineState, requestId: RequestId, nowNs: UInt64, epochMs: UInt64
    ) -> PipelineDecision {
        let api = served.api
        let variant = served.variant
        let route = served.route
        let integration = route.integration
        let group = snapshot.targetGroups[integration.targetGroup]
        state.balancer.adopt(snapshot)
        guard let endpoint = state.balancer.pick(group: group, groupIndex: integration.targetGroup, nowNs: nowNs) else {
            return .respond(.serviceUnavailable, resolution)
        }
        let context = MappingContext(
            request: request,
            routePath: UnsafeRawBufferPointer(rebasing: request.path[resolution.pathStart...]),
            captures: state.captures, api: api, stage: served.stage, variant: variant,
            routeKey: route.routeKey,
            requestId: requestId, requestTimeEpochMs: epochMs, auth: state.auth)
        state.upstreamHead.removeAll(keepingCapacity: true)
        UpstreamRequestWriter.write(integration: integration, context: context, into: &state.upstreamHead)
        return .proxy(ProxyPlan(
            resolution: resolution, targetGroup: integration.targetGroup, endpoint: endpoint,
            timeoutMillis: integration.timeoutMillis, hasResponseMappings: !integration.responseParameters.isEmpty))
    }
}
