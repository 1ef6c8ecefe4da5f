import XCTest
import TurnpikeCache
import TurnpikeConfig
import TurnpikeGateway

/// The JWKS and tokens TurnpikeAuthTests generated (test-only keys; public material only).
private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("TurnpikeAuthTests/Fixtures")

private func token(_ name: String) throws -> String {
    let data = try Data(contentsOf: fixtures.appendingPathComponent("test-only-tokens.json"))
    let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    return (json["tokens"] as! [String: String])[name]!
}

/// valid_RS256 carries `scope: "pets:read pets:write"` (pets:write authorizes invalidation here);
/// scp_array carries only orders:read/orders:write.
private func cacheConfig(strategy: String = "SUCCEED_WITH_RESPONSE_HEADER", canaryPercent: Double? = nil) -> String {
    let canary = canaryPercent.map {
        """
                canarySettings:
                  deploymentId: d1
                  percentTraffic: \($0)
                  stageVariableOverrides: { color: red }
        """
    } ?? ""
    return """
    listeners:
      - { name: public, port: 8080, defaultApi: shop }
    targetGroups:
      - { name: echo, endpoints: ["127.0.0.1:9001"] }
    authorizers:
      - name: idp
        authorizerType: JWT
        jwtConfiguration:
          issuer: https://issuer.test-only.example
          audience: [turnpike-tests]
          jwksUri: file://\(fixtures.path)/test-only-jwks.json
    apis:
      - name: shop
        integrations:
          - name: up
            integrationType: HTTP_PROXY
            integrationUri: http://echo/${stageVariables.color}
        routes:
          - { routeKey: "GET /pets/{id}", target: up }
          - { routeKey: "GET /items/{id}", target: up }
          - { routeKey: "GET /secure", target: up, authorizationType: JWT, authorizer: idp }
          - { routeKey: "GET /free", target: up }
          - { routeKey: "POST /pets/{id}", target: up }
        deployments:
          - deploymentId: d1
            integrations:
              - { name: up, integrationType: HTTP_PROXY, integrationUri: "http://echo/${stageVariables.color}" }
            routes:
              - { routeKey: "GET /pets/{id}", target: up }
        stages:
          - stageName: $default
            stageVariables: { color: blue }
            cacheClusterEnabled: true
            cacheCapacityBytes: 1000000
            unauthorizedCacheControlHeaderStrategy: \(strategy)
            cacheInvalidationScopes: ["pets:write"]
            defaultRouteSettings: { cachingEnabled: true, cacheTtlInSeconds: 60 }
            routeSettings:
              "GET /items/{id}":
                cachingEnabled: true
                cacheKeyParameters: ["method.request.path.id", "method.request.querystring.lang", "method.request.header.x-tenant"]
              "GET /free": { requireAuthorizationForCacheControl: false }
    \(canary)
    """
}

/// What the cache phase handed the integrate phase, or what answered instead.
private enum CacheStep {
    case fill(CacheKey, StageCache, UInt64)
    case wait(CacheKey)
    case refresh(CacheKey)
    case uncached
    case hit(status: Int, body: String)
    case respond(GatewayResponse)
    case other(String)
}

private extension PipelineHarness {
    mutating func cacheStep(method: String = "GET", target: String, headers: [(String, String)] = []) -> CacheStep {
        withRequest(method: method, target: target, headers: headers) { head in
            switch Pipeline.run(request: head, snapshot: snapshot, state: &state, requestId: requestId,
                                nowNs: nowNs, epochMs: fixedEpochMs) {
            case .proxy(let plan):
                switch plan.cache {
                case nil: return .uncached
                case .fill(let key, let cache, let ttl): return .fill(key, cache, ttl)
                case .wait(let key, _, _): return .wait(key)
                case .refresh(let key, _, _): return .refresh(key)
                }
            case .cacheHit(let cached, _):
                return .hit(status: cached.status, body: String(decoding: cached.body, as: UTF8.self))
            case .respond(let response, _):
                return .respond(response)
            case .preflight:
                return .other("preflight")
            case .invoke:
                return .other("invoke")
            case .authorize, .authorizerRefused:
                return .other("lambda authorizer")
            }
        }
    }

    /// Stores `body` for the fill `step` started, as the transport does when the response ends.
    func complete(_ step: CacheStep, body: String, file: StaticString = #filePath, line: UInt = #line) {
        guard case .fill(let key, let cache, let ttl) = step else {
            return XCTFail("expected a fill, got \(step)", file: file, line: line)
        }
        let waiters = cache.cache.complete(key, with: CachedResponse(
            key: key, status: 200, headerBlock: Array("content-type: text/plain\r\n".utf8), body: Array(body.utf8),
            storedAtNs: nowNs, expiresAtNs: nowNs + ttl))
        XCTAssertEqual(waiters, [], file: file, line: line)
    }
}

private func key(_ step: CacheStep) -> CacheKey? {
    switch step {
    case .fill(let k, _, _), .wait(let k), .refresh(let k): return k
    default: return nil
    }
}

final class CachePhaseTests: XCTestCase {
    func testMissFillsThenTheStoredResponseIsAHitUntilTheTtl() throws {
        var h = try PipelineHarness(yaml: cacheConfig())
        let fill = h.cacheStep(target: "/pets/1")
        guard case .fill(_, _, let ttl) = fill else { return XCTFail("\(fill)") }
        XCTAssertEqual(ttl, 60_000_000_000)
        h.complete(fill, body: "pet one")
        guard case .hit(200, "pet one") = h.cacheStep(target: "/pets/1") else { return XCTFail("expected a hit") }
        // No key parameters: another id is the same resource path, hence the same entry (as AWS REST).
        guard case .hit(200, "pet one") = h.cacheStep(target: "/pets/2") else { return XCTFail("expected a shared hit") }
        h.nowNs += 60_000_000_000
        guard case .fill = h.cacheStep(target: "/pets/1") else { return XCTFail("expired entry must miss") }
        let stats = h.snapshot.apis[0].stages[0].cache!.cache.statistics
        XCTAssertEqual(stats.hits, 2)
        XCTAssertEqual(stats.misses, 2)
    }

    func testSecondMissForAKeyBeingFilledWaits() throws {
        var h = try PipelineHarness(yaml: cacheConfig())
        let first = h.cacheStep(target: "/pets/1")
        guard case .fill = first else { return XCTFail("\(first)") }
        guard case .wait(let k) = h.cacheStep(target: "/pets/1") else { return XCTFail("expected to wait") }
        XCTAssertEqual(k, key(first))
    }

    func testKeyDiffersByEachConfiguredParameterOnly() throws {
        var h = try PipelineHarness(yaml: cacheConfig())
        let base = h.cacheStep(target: "/items/1?lang=en", headers: [("X-Tenant", "acme")])
        guard case .fill = base else { return XCTFail("\(base)") }
        var keys: Set<CacheKey> = [key(base)!]
        for (target, headers) in [
            ("/items/2?lang=en", [("X-Tenant", "acme")]),
            ("/items/1?lang=fr", [("X-Tenant", "acme")]),
            ("/items/1?lang=en", [("X-Tenant", "globex")]),
            ("/items/1", [("X-Tenant", "acme")]),
            ("/items/1?lang=en", []),
        ] as [(String, [(String, String)])] {
            let step = h.cacheStep(target: target, headers: headers)
            guard case .fill(let k, _, _) = step else { return XCTFail("\(target) \(headers): \(step)") }
            XCTAssertTrue(keys.insert(k).inserted, "\(target) \(headers) reused a key")
        }
        // An unconfigured query parameter or header does not change the key.
        let same = h.cacheStep(target: "/items/1?utm=x&lang=en", headers: [("x-tenant", "acme"), ("x-other", "1")])
        guard case .wait(let k) = same else { return XCTFail("\(same)") }
        XCTAssertEqual(k, key(base))
        // Another route's resource path is another key even for the same id.
        XCTAssertNotEqual(key(h.cacheStep(target: "/pets/1")), key(base))
    }

    func testOnlyGetIsCached() throws {
        var h = try PipelineHarness(yaml: cacheConfig())
        guard case .uncached = h.cacheStep(method: "POST", target: "/pets/1") else { return XCTFail("POST must not be cached") }
    }

    func testAuthorizedMaxAge0Refreshes() throws {
        var h = try PipelineHarness(yaml: cacheConfig(strategy: "FAIL_WITH_403"))
        let bearer = "Bearer " + (try token("valid_RS256"))
        let fill = h.cacheStep(target: "/secure", headers: [("Authorization", bearer)])
        h.complete(fill, body: "old")
        for value in ["max-age=0", "no-cache", "public, max-age=0"] {
            let step = h.cacheStep(target: "/secure", headers: [("Authorization", bearer), ("Cache-Control", value)])
            guard case .refresh(let k) = step else { return XCTFail("\(value): \(step)") }
            XCTAssertEqual(k, key(fill))
        }
        // max-age other than 0 is no bypass.
        guard case .hit(200, "old") = h.cacheStep(
            target: "/secure", headers: [("Authorization", bearer), ("Cache-Control", "max-age=10")])
        else { return XCTFail("expected a hit") }
        // requireAuthorizationForCacheControl: false on /free: anyone may refresh.
        h.complete(h.cacheStep(target: "/free"), body: "free")
        guard case .refresh = h.cacheStep(target: "/free", headers: [("Cache-Control", "max-age=0")]) else {
            return XCTFail("anonymous refresh on /free")
        }
    }

    func testUnauthorizedMaxAge0FailsWith403() throws {
        var h = try PipelineHarness(yaml: cacheConfig(strategy: "FAIL_WITH_403"))
        let noScope = "Bearer " + (try token("scp_array"))
        h.complete(h.cacheStep(target: "/secure", headers: [("Authorization", noScope)]), body: "cached")
        guard case .respond(.forbidden) = h.cacheStep(
            target: "/secure", headers: [("Authorization", noScope), ("Cache-Control", "max-age=0")])
        else { return XCTFail("expected 403") }
        guard case .respond(.forbidden) = h.cacheStep(target: "/pets/1", headers: [("Cache-Control", "max-age=0")])
        else { return XCTFail("expected 403 for an anonymous caller") }
    }

    func testUnauthorizedMaxAge0IsIgnoredWithAWarning() throws {
        var h = try PipelineHarness(yaml: cacheConfig(strategy: "SUCCEED_WITH_RESPONSE_HEADER"))
        h.complete(h.cacheStep(target: "/pets/1"), body: "cached")
        guard case .hit(200, "cached") = h.cacheStep(target: "/pets/1", headers: [("Cache-Control", "max-age=0")])
        else { return XCTFail("expected a hit") }
        let extra = String(decoding: h.state.responseHeaders, as: UTF8.self)
        XCTAssertTrue(extra.hasPrefix("warning: 199 - \""), extra)
        XCTAssertTrue(extra.hasSuffix("\"\r\n"), extra)
    }

    func testUnauthorizedMaxAge0IsIgnoredSilently() throws {
        var h = try PipelineHarness(yaml: cacheConfig(strategy: "SUCCEED_WITHOUT_RESPONSE_HEADER"))
        h.complete(h.cacheStep(target: "/pets/1"), body: "cached")
        guard case .hit(200, "cached") = h.cacheStep(target: "/pets/1", headers: [("Cache-Control", "max-age=0")])
        else { return XCTFail("expected a hit") }
        XCTAssertEqual(String(decoding: h.state.responseHeaders, as: UTF8.self), "")
    }

    func testFlushEmptiesTheStageCache() throws {
        var h = try PipelineHarness(yaml: cacheConfig())
        h.complete(h.cacheStep(target: "/pets/1"), body: "cached")
        h.snapshot.apis[0].stages[0].cache!.cache.flush()
        guard case .fill = h.cacheStep(target: "/pets/1") else { return XCTFail("expected a miss after the flush") }
    }
}

final class CanaryResolutionTests: XCTestCase {
    func testZeroPercentNeverAndHundredPercentAlwaysChoosesTheCanary() throws {
        for (percent, expected) in [(0.0, false), (100.0, true)] {
            let snapshot = try compileSnapshot(cacheConfig(canaryPercent: percent))
            for _ in 0..<200 {
                guard case .success(let r) = resolve(snapshot, target: "/pets/1") else { return XCTFail("no match") }
                XCTAssertEqual(r.canary, expected, "percentTraffic \(percent)")
            }
            // Through the whole pipeline: the decision's resolution records the choice, and the canary's
            // stage variable override reaches the upstream path. (Canary requests bypass the stage cache.)
            var h = PipelineHarness(snapshot: snapshot)
            let outcome = withRequest(target: "/pets/1") { head in
                Pipeline.run(request: head, snapshot: snapshot, state: &h.state, requestId: h.requestId,
                             nowNs: h.nowNs, epochMs: fixedEpochMs)
            }
            guard case .proxy(let plan) = outcome else { return XCTFail("expected a proxied request") }
            XCTAssertEqual(plan.resolution.canary, expected)
            XCTAssertEqual(plan.cache == nil, expected, "only the stage's own requests use its cache")
            let head = String(decoding: h.state.upstreamHead, as: UTF8.self)
            XCTAssertTrue(head.hasPrefix(expected ? "GET /red HTTP/1.1\r\n" : "GET /blue HTTP/1.1\r\n"), head)
        }
    }

    func testTenPercentSplitWithinFiveSigma() throws {
        let snapshot = try compileSnapshot(cacheConfig(canaryPercent: 10))
        var h = PipelineHarness(snapshot: snapshot)
        var canary = 0
        let n = 10_000
        for _ in 0..<n {
            h.nowNs += 1_000_000  // 1,000 requests a second: under the account throttle
            let decision = withRequest(target: "/pets/1") { head in
                Pipeline.run(request: head, snapshot: snapshot, state: &h.state, requestId: h.requestId,
                             nowNs: h.nowNs, epochMs: fixedEpochMs)
            }
            switch decision {
            case .proxy(let plan): if plan.resolution.canary { canary += 1 }
            case .cacheHit(_, let r): if r.canary { canary += 1 }
            default: return XCTFail("unexpected \(decision)")
            }
        }
        // sigma = sqrt(10000 * 0.1 * 0.9) = 30: 5 sigma = ±150.
        XCTAssertLessThanOrEqual(abs(canary - 1000), 150, "\(canary) of \(n)")
    }
}
