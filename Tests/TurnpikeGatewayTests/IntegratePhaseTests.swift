import XCTest
import TurnpikeConfig
import TurnpikeGateway

/// One API served by listener 0 with one integration per URI form under test.
private let integrateConfig = """
    listeners:
      - name: public
        port: 8080
        defaultApi: shop
    settings:
      maxRequestBodyBytes: 100
    targetGroups:
      - name: echo
        endpoints: ["127.0.0.1:9001"]
      - name: echo-prod
        endpoints: ["127.0.0.1:9002"]
      - name: flaky
        endpoints: ["127.0.0.1:9101", "127.0.0.1:9102"]
        passiveEjection: { consecutiveFailures: 1, ejectionSeconds: 30 }
    apis:
      - name: shop
        apiId: shop1
        integrations:
          - { name: pass, integrationType: HTTP_PROXY, integrationUri: "http://echo" }
          - { name: proxy, integrationType: HTTP_PROXY, integrationUri: "http://echo/api/{proxy}" }
          - { name: pet, integrationType: HTTP_PROXY, integrationUri: "http://echo/v2/pets/{petId}/info" }
          - { name: query, integrationType: HTTP_PROXY, integrationUri: "http://echo/search?source=gw&v=2" }
          - { name: method, integrationType: HTTP_PROXY, integrationUri: "http://echo/{proxy}", integrationMethod: POST }
          - { name: fixed, integrationType: HTTP_PROXY, integrationUri: "http://127.0.0.1:9003" }
          - { name: staged, integrationType: HTTP_PROXY, integrationUri: "http://${stageVariables.backend}/{proxy}" }
          - { name: flaky, integrationType: HTTP_PROXY, integrationUri: "http://flaky" }
          - name: headers
            integrationType: HTTP_PROXY
            integrationUri: http://echo
            requestParameters:
              "overwrite:header.x-user": "user-$request.header.x-name"
              "append:header.x-tag": "gw"
              "remove:header.x-secret": ""
              "overwrite:header.x-request-id": "$context.requestId"
              "overwrite:header.x-stage": "$context.stage"
              "overwrite:header.x-backend": "$stageVariables.backend"
          - name: querymap
            integrationType: HTTP_PROXY
            integrationUri: http://echo/search?fixed=1
            requestParameters:
              "overwrite:querystring.page": "$request.header.x-page"
              "append:querystring.tag": "a b&c"
              "remove:querystring.debug": ""
          - name: pathmap
            integrationType: HTTP_PROXY
            integrationUri: http://echo/ignored
            requestParameters:
              "overwrite:path": "$request.path"
        routes:
          - { routeKey: "ANY /pass/{proxy+}", target: pass }
          - { routeKey: "ANY /proxy/{proxy+}", target: proxy }
          - { routeKey: "GET /pets/{petId}", target: pet }
          - { routeKey: "GET /search", target: query }
          - { routeKey: "ANY /method/{proxy+}", target: method }
          - { routeKey: "GET /fixed", target: fixed }
          - { routeKey: "ANY /staged/{proxy+}", target: staged }
          - { routeKey: "GET /flaky", target: flaky }
          - { routeKey: "GET /headers", target: headers }
          - { routeKey: "GET /querymap", target: querymap }
          - { routeKey: "GET /pathmap/{rest+}", target: pathmap }
        stages:
          - stageName: $default
            stageVariables: { backend: echo }
          - stageName: prod
            stageVariables: { backend: echo-prod }
          - stageName: local
            stageVariables: { backend: "127.0.0.1:9005" }
    """

/// The forwarding fields the gateway appends for a client at 203.0.113.7 on port 8080.
private func forwarding(xff: String = "203.0.113.7", forwarded: String = "for=203.0.113.7;host=shop.test;proto=http") -> [String] {
    ["x-forwarded-for: \(xff)", "x-forwarded-proto: http", "x-forwarded-port: 8080", "forwarded: \(forwarded)"]
}

/// Header lines as the upstream receives them (the transport adds framing and the blank line).
private func head(_ lines: [String]) -> String {
    lines.map { $0 + "\r\n" }.joined()
}

private let host = ("Host", "shop.test")

final class IntegratePhaseTests: XCTestCase {
    var harness: PipelineHarness!

    override func setUpWithError() throws {
        harness = try PipelineHarness(yaml: integrateConfig)
    }

    // MARK: paths and queries

    func testUriWithoutPathPassesClientPathAndQueryThrough() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/pass/a/b?x=1&y", headers: [host, ("User-Agent", "t/1")]),
            head(["GET /pass/a/b?x=1&y HTTP/1.1", "host: echo", "User-Agent: t/1"] + forwarding()))
    }

    func testUriWithoutPathPassesPathWithoutTheStageSegment() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/prod/pass/a", headers: [host]),
            head(["GET /pass/a HTTP/1.1", "host: echo"] + forwarding()))
    }

    func testEmptyClientQueryAddsNoQuestionMark() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/pass/a?", headers: [host]),
            head(["GET /pass/a HTTP/1.1", "host: echo"] + forwarding()))
    }

    func testGreedyProxyVariableIsSubstitutedIntoUriPath() {
        XCTAssertEqual(
            harness.upstreamHead(method: "DELETE", target: "/proxy/a/b/c?z=1", headers: [host]),
            head(["DELETE /api/a/b/c?z=1 HTTP/1.1", "host: echo"] + forwarding()))
    }

    func testPathVariableIsSubstitutedStillEncoded() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/pets/7%20b", headers: [host]),
            head(["GET /v2/pets/7%20b/info HTTP/1.1", "host: echo"] + forwarding()))
    }

    func testUriQueryComesFirstAndClientQueryIsAppended() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/search?q=cats&page=2", headers: [host]),
            head(["GET /search?source=gw&v=2&q=cats&page=2 HTTP/1.1", "host: echo"] + forwarding()))
    }

    func testUriQueryAloneWhenClientSendsNone() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/search", headers: [host]),
            head(["GET /search?source=gw&v=2 HTTP/1.1", "host: echo"] + forwarding()))
    }

    func testIntegrationMethodOverridesClientMethod() {
        XCTAssertEqual(
            harness.upstreamHead(method: "GET", target: "/method/x", headers: [host]),
            head(["POST /x HTTP/1.1", "host: echo"] + forwarding()))
    }

    // MARK: Host and forwarding fields

    func testHostIsRewrittenToNumericUriAuthority() {
        guard case .proxy(let text, let group, let endpoint) = harness.run(target: "/fixed", headers: [host]) else {
            return XCTFail("not proxied")
        }
        XCTAssertEqual(text, head(["GET /fixed HTTP/1.1", "host: 127.0.0.1:9003"] + forwarding()))
        XCTAssertEqual(group, "127.0.0.1:9003")
        XCTAssertEqual(endpoint, "127.0.0.1:9003")
    }

    func testHopByHopFieldsAndConnectionListedFieldsAreNotForwarded() {
        let headers = [
            ("Host", "shop.test"), ("Connection", "keep-alive, X-Foo"), ("Keep-Alive", "timeout=5"),
            ("TE", "trailers"), ("Transfer-Encoding", "chunked"), ("Upgrade", "websocket"),
            ("Proxy-Connection", "keep-alive"), ("Content-Length", "5"), ("Expect", "100-continue"),
            ("Trailer", "x-sum"), ("x-foo", "listed"), ("X-Kept", "yes"), ("Accept", "*/*"),
        ]
        XCTAssertEqual(
            harness.upstreamHead(method: "POST", target: "/pass/p", headers: headers),
            head(["POST /pass/p HTTP/1.1", "host: echo", "X-Kept: yes", "Accept: */*"] + forwarding()))
    }

    func testClientForwardingFieldsAreReplacedAndXForwardedForIsAppendedTo() {
        let headers = [
            host, ("X-Forwarded-For", "198.51.100.1, 10.0.0.2"), ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Port", "443"), ("Forwarded", "for=6.6.6.6"),
        ]
        XCTAssertEqual(
            harness.upstreamHead(target: "/pass/a", headers: headers),
            head(["GET /pass/a HTTP/1.1", "host: echo"]
                + forwarding(xff: "198.51.100.1, 10.0.0.2, 203.0.113.7")))
    }

    func testForwardingFieldsCarryListenerPortAndIPv6ClientInBrackets() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/pass/a", headers: [host], clientIP: "2001:db8::1", localPort: 8443),
            head(["GET /pass/a HTTP/1.1", "host: echo",
                  "x-forwarded-for: 2001:db8::1", "x-forwarded-proto: http", "x-forwarded-port: 8443",
                  "forwarded: for=\"[2001:db8::1]\";host=shop.test;proto=http"]))
    }

    func testForwardedHostWithPortIsAQuotedString() {
        // RFC 7239 §4: a value is a token or a quoted-string, and ':' is not a token character.
        XCTAssertEqual(
            harness.upstreamHead(target: "/pass/a", headers: [("Host", "127.0.0.1:8080")]),
            head(["GET /pass/a HTTP/1.1", "host: echo"]
                + forwarding(forwarded: "for=203.0.113.7;host=\"127.0.0.1:8080\";proto=http")))
    }

    func testForwardedHostCannotInjectParameters() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/pass/a", headers: [("Host", "a;for=10.0.0.1,for=\"x\\")]),
            head(["GET /pass/a HTTP/1.1", "host: echo"]
                + forwarding(forwarded: "for=203.0.113.7;host=\"a;for=10.0.0.1,for=\\\"x\\\\\";proto=http")))
    }

    func testForwardedOmitsHostWhenClientSentNone() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/pass/a"),
            head(["GET /pass/a HTTP/1.1", "host: echo"] + forwarding(forwarded: "for=203.0.113.7;proto=http")))
    }

    // MARK: parameter mappings

    func testHeaderMappingsOverwriteAppendRemoveAndEvaluateContextAndStageVariables() {
        let headers = [
            host, ("X-Name", "ann"), ("X-User", "spoofed"), ("X-Tag", "client"), ("X-Secret", "s3"),
            ("Accept", "*/*"),
        ]
        XCTAssertEqual(
            harness.upstreamHead(target: "/headers", headers: headers),
            head(["GET /headers HTTP/1.1", "host: echo", "X-Name: ann", "Accept: */*"] + forwarding() + [
                "x-user: user-ann", "x-tag: client,gw", "x-request-id: JXkbXhJZIAMEVhQ=", "x-stage: $default",
                "x-backend: echo",
            ]))
    }

    func testHeaderMappingsUseTheSelectedStage() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/prod/headers", headers: [host]),
            head(["GET /headers HTTP/1.1", "host: echo"] + forwarding() + [
                "x-user: user-", "x-tag: gw", "x-request-id: JXkbXhJZIAMEVhQ=", "x-stage: prod",
                "x-backend: echo-prod",
            ]))
    }

    func testQuerystringMappingsOverwriteAppendEncodedAndRemove() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/querymap?debug=1&page=3&q=cats", headers: [host, ("X-Page", "9")]),
            head(["GET /search?fixed=1&q=cats&page=9&tag=a%20b%26c HTTP/1.1", "host: echo", "X-Page: 9"]
                + forwarding()))
    }

    func testOverwritePathWithRequestPathDropsStageAndUriPathKeepsQuery() {
        XCTAssertEqual(
            harness.upstreamHead(target: "/prod/pathmap/a/b?x=1", headers: [host]),
            head(["GET /pathmap/a/b?x=1 HTTP/1.1", "host: echo"] + forwarding()))
    }

    // MARK: upstream choice

    func testStageVariableInUriHostSelectsTargetGroupPerStage() {
        XCTAssertEqual(
            harness.run(target: "/staged/x", headers: [host]),
            .proxy(head: head(["GET /x HTTP/1.1", "host: echo"] + forwarding()),
                   targetGroup: "echo", endpoint: "127.0.0.1:9001"))
        XCTAssertEqual(
            harness.run(target: "/prod/staged/x", headers: [host]),
            .proxy(head: head(["GET /x HTTP/1.1", "host: echo-prod"] + forwarding()),
                   targetGroup: "echo-prod", endpoint: "127.0.0.1:9002"))
        XCTAssertEqual(
            harness.run(target: "/local/staged/x", headers: [host]),
            .proxy(head: head(["GET /x HTTP/1.1", "host: 127.0.0.1:9005"] + forwarding()),
                   targetGroup: "127.0.0.1:9005", endpoint: "127.0.0.1:9005"))
    }

    func testAllEndpointsUnhealthyIsServiceUnavailable() {
        let endpoints = flakyEndpoints()
        endpoints[0].setHealthy(false)
        XCTAssertEqual(endpointOf(harness.run(target: "/flaky")), "127.0.0.1:9102")
        endpoints[1].setHealthy(false)
        XCTAssertEqual(harness.run(target: "/flaky"), .respond(.serviceUnavailable))
        endpoints[0].setHealthy(true)
        XCTAssertEqual(endpointOf(harness.run(target: "/flaky")), "127.0.0.1:9101")
    }

    func testAllEndpointsEjectedIsServiceUnavailableUntilEjectionEnds() {
        let group = harness.snapshot.targetGroups.first { $0.name == "flaky" }!
        for endpoint in group.endpoints {
            XCTAssertTrue(endpoint.recordFailure(policy: group.passiveEjection, nowNs: harness.nowNs))
        }
        XCTAssertEqual(harness.run(target: "/flaky"), .respond(.serviceUnavailable))
        harness.nowNs += 30_000_000_000
        XCTAssertNotNil(endpointOf(harness.run(target: "/flaky")))
    }

    // MARK: limits

    func testDeclaredBodyOverLimitIsRequestTooLarge() {
        XCTAssertEqual(
            harness.run(method: "POST", target: "/pass/a", headers: [host, ("Content-Length", "101")]),
            .respond(.requestTooLarge))
    }

    func testDeclaredBodyAtLimitPasses() {
        XCTAssertNotNil(endpointOf(
            harness.run(method: "POST", target: "/pass/a", headers: [host, ("Content-Length", "100")])))
    }

    func testLimitsPhaseComparesContentLengthWithMaxRequestBodyBytes() {
        let snapshot = harness.snapshot
        XCTAssertEqual(snapshot.maxBodyBytes, 100)
        withRequest(target: "/", headers: [("Content-Length", "101")]) {
            XCTAssertEqual(LimitsPhase.run(request: $0, snapshot: snapshot), .requestTooLarge)
        }
        withRequest(target: "/", headers: [("Content-Length", "100")]) {
            XCTAssertNil(LimitsPhase.run(request: $0, snapshot: snapshot))
        }
        withRequest(target: "/", headers: [("Transfer-Encoding", "chunked")]) {
            XCTAssertNil(LimitsPhase.run(request: $0, snapshot: snapshot))
        }
    }

    func testUnknownRouteIsAnsweredBeforeLimits() {
        XCTAssertEqual(
            harness.run(method: "POST", target: "/nowhere", headers: [host, ("Content-Length", "101")]),
            .respond(.notFound))
    }

    // MARK: helpers

    private func flakyEndpoints() -> [EndpointState] {
        harness.snapshot.targetGroups.first { $0.name == "flaky" }!.endpoints
    }

    private func endpointOf(_ outcome: PipelineOutcome) -> String? {
        if case .proxy(_, _, let endpoint) = outcome { return endpoint }
        return nil
    }
}
