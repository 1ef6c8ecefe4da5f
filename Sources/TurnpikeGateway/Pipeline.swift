import TurnpikeAuth
import TurnpikeConfig
import TurnpikeRouting

/// The request pipeline, top to bottom. Each phase is a small type with one entry point
/// that either passes the exchange on or ends it with a gateway response:
///
///   1. ResolvePhase    host + base path + stage → API and stage; route key match
///   2. LimitsPhase     payload limit (413) before anything is sent upstream
///   3. AuthorizePhase  JWT authorizer (401/403), API key and usage plan (403)
///   4. ThrottlePhase   client IP, plan key, route, account buckets (429); quota (429)
///   5. IntegratePhase  HTTP_PROXY: endpoint choice and the upstream request head
///
/// The transport then streams the body, and on the way back ResponseHeadWriter (the
/// respond phase) and AccessLogFormatter (the log phase) finish the exchange. The
/// phases of DESIGN.md not built yet (cors, cache) slot in after 2 and after 4.
public enum Pipeline {
    public static func run(
        request: RequestHead, snapshot: GatewaySnapshot, state: inout PipelineState,
        requestId: RequestId, nowNs: UInt64, epochMs: UInt64
    ) -> PipelineDecision {
        let resolution: Resolution
        switch ResolvePhase.run(request: request, snapshot: snapshot, captures: &state.captures, random: &state.random) {
        case .success(let r): resolution = r
        case .failure(let response): return .respond(response, nil)
        }
        state.auth = AuthResult()
        state.responseHeaders.removeAll(keepingCapacity: true)
        if let response = LimitsPhase.run(request: request, snapshot: snapshot) {
            return .respond(response, resolution)
        }
        let epochSeconds = Int64(epochMs / 1000)
        if let response = AuthorizePhase.run(
            request: request, resolution: resolution, snapshot: snapshot, state: &state, epochSeconds: epochSeconds)
        {
            return .respond(response, resolution)
        }
        if let response = ThrottlePhase.run(
            request: request, resolution: resolution, snapshot: snapshot, state: &state, nowNs: nowNs,
            epochSeconds: epochSeconds)
        {
            return .respond(response, resolution)
        }
        return IntegratePhase.run(
            request: request, resolution: resolution, snapshot: snapshot, state: &state,
            requestId: requestId, nowNs: nowNs, epochMs: epochMs)
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
    /// The upstream head is in PipelineState.upstreamHead.
    case proxy(ProxyPlan)
}

/// An HTTP_PROXY exchange ready to go.
public struct ProxyPlan {
    public var resolution: Resolution
    public var targetGroup: Int
    public var endpoint: EndpointState
    public var timeoutMillis: UInt32
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
        let stage = snapshot.apis[selected.apiIndex].stages[selected.stageIndex]
        var variant = stage.main
        var canary = false
        if let c = stage.canary, c.splitter.routesToCanary(random: random.next(), stickyValue: stickyValue(request, c.splitter)) {
            variant = c.variant
            canary = true
        }
        let path = UnsafeRawBufferPointer(rebasing: request.path[selected.pathStart...])
        guard let route = variant.routeTable.match(method: request.method, path: path, captures: &captures) else {
            return .failure(.notFound)
        }
        return .success(Resolution(
            apiIndex: selected.apiIndex, stageIndex: selected.stageIndex, routeIndex: route,
            pathStart: selected.pathStart, domainIndex: selected.domainIndex, canary: canary))
    }
}

extension ResolvePhase {
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
        request: RequestHead, resolution: Resolution, snapshot: GatewaySnapshot,
        state: inout PipelineState, requestId: RequestId, nowNs: UInt64, epochMs: UInt64
    ) -> PipelineDecision {
        let api = snapshot.apis[resolution.apiIndex]
        let variant = snapshot.variant(resolution)
        let route = variant.routes[resolution.routeIndex]
        let integration = route.integration
        let group = snapshot.targetGroups[integration.targetGroup]
        state.balancer.adopt(snapshot)
        guard let endpoint = state.balancer.pick(group: group, groupIndex: integration.targetGroup, nowNs: nowNs) else {
            return .respond(.serviceUnavailable, resolution)
        }
        let context = MappingContext(
            request: request,
            routePath: UnsafeRawBufferPointer(rebasing: request.path[resolution.pathStart...]),
            captures: state.captures, api: api, stage: api.stages[resolution.stageIndex], variant: variant,
            routeKey: route.routeKey,
            requestId: requestId, requestTimeEpochMs: epochMs, auth: state.auth)
        state.upstreamHead.removeAll(keepingCapacity: true)
        UpstreamRequestWriter.write(integration: integration, context: context, into: &state.upstreamHead)
        return .proxy(ProxyPlan(
            resolution: resolution, targetGroup: integration.targetGroup, endpoint: endpoint,
            timeoutMillis: integration.timeoutMillis))
    }
}
