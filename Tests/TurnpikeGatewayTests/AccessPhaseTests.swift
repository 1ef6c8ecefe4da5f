import XCTest
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

private func accessConfig(keyRate: String = "{ burstLimit: 1000, rateLimit: 1000 }", quota: String = "", clientIp: String = "") -> String {
    """
    listeners:
      - { name: public, port: 8080, defaultApi: shop }
    settings:
      throttle: { burstLimit: 1000, rateLimit: 1000 }
    \(clientIp)
    targetGroups:
      - { name: echo, endpoints: ["127.0.0.1:9001"] }
    authorizers:
      - name: idp
        authorizerType: JWT
        jwtConfiguration:
          issuer: https://issuer.test-only.example
          audience: [turnpike-tests]
          jwksUri: file://\(fixtures.path)/test-only-jwks.json
    apiKeys:
      - { name: good, id: keygood, value: "good-key-0123456789abcdef" }
      - { name: off, id: keyoff, value: "off-key-0123456789abcdefg", enabled: false }
      - { name: stray, id: keystray, value: "stray-key-0123456789abcdef" }
    usagePlans:
      - name: plan
        id: plan1
        apiStages: [{ api: shop, stage: $default }]
        throttle: \(keyRate)
        \(quota)
        apiKeys: [good, off]
    apis:
      - name: shop
        integrations:
          - name: up
            integrationType: HTTP_PROXY
            integrationUri: http://echo
            requestParameters:
              "overwrite:header.x-user": "$context.authorizer.claims.sub"
              "overwrite:header.x-key": "$context.identity.apiKeyId"
        routes:
          - { routeKey: "GET /open", target: up }
          - { routeKey: "GET /pets", target: up, authorizationType: JWT, authorizer: idp, authorizationScopes: ["pets:read"] }
          - { routeKey: "GET /admin", target: up, authorizationType: JWT, authorizer: idp, authorizationScopes: ["pets:admin"] }
          - { routeKey: "GET /keyed", target: up, apiKeyRequired: true }
          - { routeKey: "GET /slow", target: up }
        stages:
          - stageName: $default
            routeSettings:
              "GET /slow": { throttlingBurstLimit: 2, throttlingRateLimit: 1 }
    """
}

final class AuthorizePhaseTests: XCTestCase {
    func testValidTokenPassesAndItsClaimReachesTheUpstream() throws {
        var h = try PipelineHarness(yaml: accessConfig())
        let head = h.upstreamHead(target: "/pets", headers: [("Authorization", "Bearer " + (try token("valid_RS256")))])
        XCTAssertTrue(head.contains("\r\nx-user: user-123\r\n"), head)
        XCTAssertNil(h.state.auth.error)
    }

    func testBearerPrefixIsOptional() throws {
        var h = try PipelineHarness(yaml: accessConfig())
        guard case .proxy = h.run(target: "/pets", headers: [("Authorization", try token("valid_ES256"))]) else {
            return XCTFail("a bare token must be accepted")
        }
    }

    func testMissingTokenIsUnauthorizedWithWwwAuthenticate() throws {
        var h = try PipelineHarness(yaml: accessConfig())
        XCTAssertEqual(h.run(target: "/pets"), .respond(.unauthorized))
        let extra = String(decoding: h.state.responseHeaders, as: UTF8.self)
        XCTAssertTrue(extra.hasPrefix("www-authenticate: Bearer scope=\"\" error=\"invalid_token\""), extra)
    }

    func testExpiredWrongAudienceAndTamperedTokensAreUnauthorized() throws {
        var h = try PipelineHarness(yaml: accessConfig())
        for name in ["expired", "wrong_aud", "wrong_iss", "tampered_signature", "alg_none", "hs256_with_rsa_public_key"] {
            XCTAssertEqual(h.run(target: "/pets", headers: [("Authorization", "Bearer " + (try token(name)))]),
                           .respond(.unauthorized), name)
        }
    }

    func testMissingScopeIsForbidden() throws {
        var h = try PipelineHarness(yaml: accessConfig())
        XCTAssertEqual(h.run(target: "/admin", headers: [("Authorization", "Bearer " + (try token("valid_RS256")))]),
                       .respond(.forbidden))
        XCTAssertTrue(String(decoding: h.state.responseHeaders, as: UTF8.self).contains("insufficient_scope"))
    }

    func testRouteWithoutAuthorizerNeedsNoToken() throws {
        var h = try PipelineHarness(yaml: accessConfig())
        guard case .proxy = h.run(target: "/open") else { return XCTFail("open route refused") }
    }

    func testValidApiKeyPassesAndItsIdIsMappable() throws {
        var h = try PipelineHarness(yaml: accessConfig())
        let head = h.upstreamHead(target: "/keyed", headers: [("X-Api-Key", "good-key-0123456789abcdef")])
        XCTAssertTrue(head.contains("\r\nx-key: keygood\r\n"), head)
    }

    func testMissingUnknownDisabledAndPlanlessKeysAreForbidden() throws {
        var h = try PipelineHarness(yaml: accessConfig())
        XCTAssertEqual(h.run(target: "/keyed"), .respond(.forbidden))
        XCTAssertEqual(h.run(target: "/keyed", headers: [("x-api-key", "nobody-0123456789abcdefgh")]), .respond(.forbidden))
        XCTAssertEqual(h.run(target: "/keyed", headers: [("x-api-key", "off-key-0123456789abcdefg")]), .respond(.forbidden))
        XCTAssertEqual(h.run(target: "/keyed", headers: [("x-api-key", "stray-key-0123456789abcdef")]), .respond(.forbidden))
    }
}

final class ThrottlePhaseTests: XCTestCase {
    func testRouteSettingsLimitTheRouteWithRetryAfter() throws {
        var h = try PipelineHarness(yaml: accessConfig())
        for _ in 0..<2 {
            guard case .proxy = h.run(target: "/slow") else { return XCTFail("within the burst") }
        }
        XCTAssertEqual(h.run(target: "/slow"), .respond(.tooManyRequests))
        XCTAssertEqual(String(decoding: h.state.responseHeaders, as: UTF8.self), "retry-after: 1\r\n")
        // Other routes have their own (default: none) route limit.
        guard case .proxy = h.run(target: "/open") else { return XCTFail("another route must not be limited") }
        // One second later one more request fits.
        h.nowNs += 1_000_000_000
        guard case .proxy = h.run(target: "/slow") else { return XCTFail("refilled after a second") }
    }

    func testUsagePlanKeyThrottleLimitsTheKey() throws {
        var h = try PipelineHarness(yaml: accessConfig(keyRate: "{ burstLimit: 3, rateLimit: 1 }"))
        let key = [("x-api-key", "good-key-0123456789abcdef")]
        for _ in 0..<3 {
            guard case .proxy = h.run(target: "/keyed", headers: key) else { return XCTFail("within the key's burst") }
        }
        XCTAssertEqual(h.run(target: "/keyed", headers: key), .respond(.tooManyRequests))
    }

    func testQuotaOverTheLimitIsLimitExceeded() throws {
        var h = try PipelineHarness(yaml: accessConfig(quota: "quota: { limit: 2, period: DAY }"))
        let key = [("x-api-key", "good-key-0123456789abcdef")]
        for _ in 0..<2 {
            guard case .proxy = h.run(target: "/keyed", headers: key) else { return XCTFail("within the quota") }
        }
        XCTAssertEqual(h.run(target: "/keyed", headers: key), .respond(.limitExceeded))
    }

    func testClientIpThrottleSeparatesClients() throws {
        var h = try PipelineHarness(yaml: accessConfig(clientIp: "  clientIpThrottle: { burstLimit: 1, rateLimit: 1 }"))
        guard case .proxy = h.run(target: "/open", clientIP: "198.51.100.1") else { return XCTFail("first request") }
        XCTAssertEqual(h.run(target: "/open", clientIP: "198.51.100.1"), .respond(.tooManyRequests))
        guard case .proxy = h.run(target: "/open", clientIP: "198.51.100.2") else { return XCTFail("another client") }
    }

    func testAccountThrottleAppliesToEveryRoute() throws {
        let yaml = accessConfig().replacingOccurrences(
            of: "throttle: { burstLimit: 1000, rateLimit: 1000 }\n", with: "throttle: { burstLimit: 2, rateLimit: 1 }\n")
        var h = try PipelineHarness(yaml: yaml)
        guard case .proxy = h.run(target: "/open"), case .proxy = h.run(target: "/pets", headers: [("Authorization", try token("valid_RS256"))])
        else { return XCTFail("within the account burst") }
        XCTAssertEqual(h.run(target: "/open"), .respond(.tooManyRequests))
    }
}
