import TurnpikeCache
import TurnpikeConfig

/// What the cache phase decided for a cached route.
public enum CacheIntent: Sendable {
    /// This exchange fetches the response and stores it (the single filler for its key).
    case fill(CacheKey, StageCache, ttlNs: UInt64)
    /// Another exchange is fetching this key; wait for it (the waiter is registered).
    case wait(CacheKey, StageCache, ttlNs: UInt64)
    /// `Cache-Control: max-age=0` from an authorized client: fetch and replace the entry.
    case refresh(CacheKey, StageCache, ttlNs: UInt64)

    public var key: CacheKey {
        switch self { case .fill(let k, _, _), .wait(let k, _, _), .refresh(let k, _, _): k }
    }

    public var stageCache: StageCache {
        switch self { case .fill(_, let c, _), .wait(_, let c, _), .refresh(_, let c, _): c }
    }

    public var ttlNs: UInt64 {
        switch self { case .fill(_, _, let t), .wait(_, _, let t), .refresh(_, _, let t): t }
    }
}

/// Phase 5: the stage response cache. A hit answers without the integration; a miss
/// makes exactly one exchange per key go upstream while concurrent ones wait for it
/// (request coalescing). `Cache-Control: max-age=0` bypasses the cache only for callers
/// allowed to invalidate it, as requireAuthorizationForCacheControl and
/// unauthorizedCacheControlHeaderStrategy say.
public enum CachePhase {
    public enum Outcome {
        case pass
        case hit(CachedResponse)
        case intent(CacheIntent)
        case refuse(GatewayResponse)
    }

    private static let cacheControl: [UInt8] = Array("cache-control".utf8)

    public static func run(
        request: RequestHead, resolution: Resolution, served: Served,
        state: inout PipelineState, waiter: CacheWaiter, nowNs: UInt64
    ) -> Outcome {
        guard let stageCache = served.stage.cache, let plan = served.route.cache,
              request.method.elementsEqual(plan.method)
        else { return .pass }
        let key = buildKey(request: request, resolution: resolution, plan: plan, state: &state)
        if requestsRevalidation(request) {
            let authorized = !plan.requireAuthorizationForCacheControl
                || (state.auth.token?.hasAnyScope(of: stageCache.invalidationScopes) ?? false)
            if authorized { return .intent(.refresh(key, stageCache, ttlNs: plan.ttlNs)) }
            switch plan.unauthorizedStrategy {
            case .failWith403:
                state.auth.error = "not authorized to invalidate the cache"
                return .refuse(.forbidden)
            case .succeedWithResponseHeader:
                state.responseHeaders.append(ascii: "warning: 199 - \"Cache-Control max-age=0 ignored: the caller may not invalidate the cache\"\r\n")
            case .succeedWithoutResponseHeader:
                break
            }
        }
        switch stageCache.cache.lookup(key, nowNs: nowNs, waiter: waiter) {
        case .hit(let response): return .hit(response)
        case .fill: return .intent(.fill(key, stageCache, ttlNs: plan.ttlNs))
        case .wait: return .intent(.wait(key, stageCache, ttlNs: plan.ttlNs))
        }
    }

    static func buildKey(request: RequestHead, resolution: Resolution, plan: RouteCachePlan, state: inout PipelineState) -> CacheKey {
        state.cacheKeys.begin(method: request.method, shape: plan.shape)
        let routePath = UnsafeRawBufferPointer(rebasing: request.path[resolution.pathStart...])
        for source in plan.sources {
            switch source {
            case .pathParameter(let index):
                var value: UnsafeRawBufferPointer? = nil
                for i in 0..<state.captures.count where state.captures[i].nameIndex == index {
                    let c = state.captures[i]
                    value = UnsafeRawBufferPointer(rebasing: routePath[c.start..<c.end])
                }
                state.cacheKeys.appendValue(value)
            case .queryString(let name):
                state.cacheKeys.appendValue(QueryString.value(named: name, in: request.query))
            case .header(let name):
                state.cacheKeys.appendValue(request.header(name))
            }
        }
        return state.cacheKeys.finish()
    }

    /// `Cache-Control: max-age=0` (or no-cache, which asks the same) from the client.
    static func requestsRevalidation(_ request: RequestHead) -> Bool {
        guard let value = request.header(cacheControl) else { return false }
        let text = ASCII.string(value).lowercased()
        return text.split(separator: ",").contains {
            let t = $0.trimmingCharacters(in: " \t")
            return t == "max-age=0" || t == "no-cache"
        }
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}
