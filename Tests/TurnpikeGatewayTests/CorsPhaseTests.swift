import XCTest
import TurnpikeConfig
import TurnpikeGateway

private let corsConfig = """
    listeners:
      - { name: public, port: 8080, defaultApi: shop }
    targetGroups:
      - { name: echo, endpoints: ["127.0.0.1:9001"] }
    apis:
      - name: shop
        corsConfiguration:
          allowOrigins: ["https://app.example.com", "https://*.corp.example"]
          allowMethods: ["GET", "PUT"]
          allowHeaders: ["content-type", "x-custom"]
          exposeHeaders: ["x-request-id"]
          maxAge: 600
          allowCredentials: true
        integrations:
          - { name: up, integrationType: HTTP_PROXY, integrationUri: "http://echo" }
        routes:
          - { routeKey: "GET /pets/{id}", target: up }
          - { routeKey: "PUT /pets/{id}", target: up }
          - { routeKey: "OPTIONS /explicit", target: up }
          - { routeKey: "GET /explicit", target: up }
          - { routeKey: "GET /limited", target: up }
        stages:
          - stageName: $default
            routeSettings:
              "GET /limited": { throttlingBurstLimit: 1, throttlingRateLimit: 1 }
    """

private let app = "https://app.example.com"

private func preflightHeaders(origin: String = app, method: String, requestHeaders: String? = nil) -> [(String, String)] {
    var headers = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if let requestHeaders { headers.append(("Access-Control-Request-Headers", requestHeaders)) }
    return headers
}

final class CorsPhaseTests: XCTestCase {
    func testPreflightIsAnsweredWithTheAllowFields() throws {
        var h = try PipelineHarness(yaml: corsConfig)
        XCTAssertEqual(
            h.run(method: "OPTIONS", target: "/pets/7", headers: preflightHeaders(method: "PUT", requestHeaders: "content-type")),
            .preflight)
        let fields = String(decoding: h.state.responseHeaders, as: UTF8.self)
        XCTAssertEqual(fields, """
            access-control-allow-origin: https://app.example.com\r
            access-control-allow-credentials: true\r
            access-control-allow-methods: GET,PUT\r
            access-control-allow-headers: content-type,x-custom\r
            access-control-max-age: 600\r
            vary: origin\r

            """)
    }

    func testRefusedPreflightIsStillAnsweredButWithoutFields() throws {
        var h = try PipelineHarness(yaml: corsConfig)
        let refused: [[(String, String)]] = [
            preflightHeaders(origin: "https://evil.example", method: "GET"),
            preflightHeaders(method: "DELETE"),
            preflightHeaders(method: "GET", requestHeaders: "x-forbidden"),
            preflightHeaders(origin: "https://corp.example", method: "GET"),
        ]
        for headers in refused {
            XCTAssertEqual(h.run(method: "OPTIONS", target: "/pets/7", headers: headers), .preflight, "\(headers)")
            XCTAssertEqual(String(decoding: h.state.responseHeaders, as: UTF8.self), "", "\(headers)")
        }
    }

    func testExplicitOptionsRouteIsProxiedNotAnswered() throws {
        var h = try PipelineHarness(yaml: corsConfig)
        let head = h.upstreamHead(method: "OPTIONS", target: "/explicit", headers: preflightHeaders(method: "PUT"))
        XCTAssertTrue(head.hasPrefix("OPTIONS /explicit HTTP/1.1\r\n"), head)
        // The proxied answer gets the actual-response fields, prepared for the respond phase.
        let cors = String(decoding: h.state.corsHeaders, as: UTF8.self)
        XCTAssertTrue(cors.contains("access-control-allow-origin: https://app.example.com\r\n"), cors)
        XCTAssertFalse(cors.contains("access-control-allow-methods"), cors)
    }

    func testPreflightForAPathNoRouteServesIsAnswered() throws {
        var h = try PipelineHarness(yaml: corsConfig)
        XCTAssertEqual(h.run(method: "OPTIONS", target: "/nowhere", headers: preflightHeaders(method: "GET")), .preflight)
        XCTAssertTrue(String(decoding: h.state.responseHeaders, as: UTF8.self)
            .hasPrefix("access-control-allow-origin: https://app.example.com\r\n"))
        // Without Access-Control-Request-Method it is no preflight.
        XCTAssertEqual(h.run(method: "OPTIONS", target: "/nowhere", headers: [("Origin", app)]), .respond(.notFound))
    }

    func testActualResponseFieldsArePreparedForMatchingOriginsOnly() throws {
        var h = try PipelineHarness(yaml: corsConfig)
        _ = h.upstreamHead(target: "/pets/1", headers: [("Origin", app)])
        XCTAssertEqual(String(decoding: h.state.corsHeaders, as: UTF8.self), """
            access-control-allow-origin: https://app.example.com\r
            access-control-allow-credentials: true\r
            access-control-expose-headers: x-request-id\r
            vary: origin\r

            """)
        _ = h.upstreamHead(target: "/pets/1", headers: [("Origin", "https://deep.a.corp.example")])
        XCTAssertTrue(String(decoding: h.state.corsHeaders, as: UTF8.self)
            .hasPrefix("access-control-allow-origin: https://deep.a.corp.example\r\n"))
        for headers in [[("Origin", "https://evil.example")], [("Origin", "http://a.corp.example")], []] {
            _ = h.upstreamHead(target: "/pets/1", headers: headers)
            XCTAssertFalse(String(decoding: h.state.corsHeaders, as: UTF8.self).contains("access-control-"), "\(headers)")
        }
    }

    func testGatewayErrorResponsesCarryTheCorsFields() throws {
        var h = try PipelineHarness(yaml: corsConfig)
        _ = h.run(target: "/limited")
        XCTAssertEqual(h.run(target: "/limited", headers: [("Origin", app)]), .respond(.tooManyRequests))
        XCTAssertTrue(String(decoding: h.state.responseHeaders, as: UTF8.self)
            .contains("access-control-allow-origin: https://app.example.com\r\n"))
    }

    func testNotFoundForAPathNoRouteServesCarriesTheCorsFields() throws {
        // Like 401/403/429, the 404 of an API with CORS carries the fields for a matching origin.
        var h = try PipelineHarness(yaml: corsConfig)
        XCTAssertEqual(h.run(target: "/nowhere", headers: [("Origin", app)]), .respond(.notFound))
        XCTAssertTrue(String(decoding: h.state.responseHeaders, as: UTF8.self)
            .contains("access-control-allow-origin: https://app.example.com\r\n"),
            String(decoding: h.state.responseHeaders, as: UTF8.self))
    }

    func testStarOriginWithCredentialsIsRejectedAtLoad() {
        let yaml = corsConfig.replacingOccurrences(
            of: "allowOrigins: [\"https://app.example.com\", \"https://*.corp.example\"]", with: "allowOrigins: [\"*\"]")
        XCTAssertThrowsError(try ConfigLoader.parse(text: yaml, fileName: "test.yaml")) { error in
            XCTAssertTrue("\(error)".contains("allowCredentials"), "\(error)")
        }
    }
}
