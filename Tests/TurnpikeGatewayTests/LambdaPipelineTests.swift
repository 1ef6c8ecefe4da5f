import XCTest
import TurnpikeAuth
import TurnpikeConfig
import TurnpikeGateway

private let lambdaYaml = """
    listeners:
      - { name: public, port: 8080, defaultApi: http-api }
    functions:
      - { name: fn, command: [bootstrap] }
      - { name: auth, command: [bootstrap] }
    authorizers:
      - name: simple
        authorizerType: REQUEST
        authorizerUri: function:auth
        authorizerPayloadFormatVersion: "2.0"
        enableSimpleResponses: true
        identitySource: ["$request.header.Authorization"]
    apis:
      - name: http-api
        apiId: httpapi1
        integrations:
          - { name: v2, integrationType: AWS_PROXY, integrationUri: "function:fn" }
          - { name: v1, integrationType: AWS_PROXY, integrationUri: "function:fn", payloadFormatVersion: "1.0" }
        routes:
          - { routeKey: GET /two, target: v2 }
          - { routeKey: GET /one, target: v1 }
          - { routeKey: GET /guarded, target: v2, authorizationType: CUSTOM, authorizer: simple }
        stages: [{ stageName: $default }]
      - name: rest-api
        apiId: restapi1
        protocolType: REST
        integrations:
          - { name: fn, integrationType: AWS_PROXY, integrationUri: "function:fn", payloadFormatVersion: "2.0" }
        routes:
          - { routeKey: "GET /items/{id}", target: fn }
        stages: [{ stageName: prod }]
    """

/// How the pipeline hands Lambda routes and Lambda authorizers to the transport.
final class LambdaPipelineTests: XCTestCase {
    func testHTTPAPIRoutesInvokeTheirFunctionWithTheConfiguredPayloadFormat() throws {
        var h = PipelineHarness(snapshot: try compileSnapshot(lambdaYaml))
        XCTAssertEqual(h.run(target: "/two"), .invoke(function: "fn", format: "2.0"))
        XCTAssertEqual(h.run(target: "/one"), .invoke(function: "fn", format: "1.0"))
    }

    func testRESTAPIsAlwaysSendPayload1AndAnswerMissingAuthenticationTokenForUnknownResources() throws {
        var h = PipelineHarness(snapshot: try compileSnapshot(lambdaYaml))
        let rest = [("Host", "restapi1.execute-api.localhost")]
        XCTAssertEqual(h.run(target: "/prod/items/3", headers: rest), .invoke(function: "fn", format: "1.0"))
        XCTAssertEqual(h.run(target: "/prod/nowhere", headers: rest), .respond(.missingAuthenticationToken))
        XCTAssertEqual(h.run(target: "/nowhere"), .respond(.notFound))
    }

    func testGuardedRouteInvokesItsAuthorizerFirstAndACachedDenialIsAnsweredDirectly() throws {
        let snapshot = try compileSnapshot(lambdaYaml)
        var h = PipelineHarness(snapshot: snapshot)
        let token = [("Authorization", "t1")]
        guard case .authorize(let plan) = Pipeline.runForTest(&h, target: "/guarded", headers: token) else {
            return XCTFail("expected an authorizer invocation")
        }
        let authorizer = snapshot.lambdaAuthorizers[plan.authorizer].authorizer
        _ = authorizer.finish(
            plan.invocation, result: .payload(Array(#"{"isAuthorized": false}"#.utf8)), cache: snapshot.authorizerCache,
            nowSeconds: Int64(fixedEpochMs / 1000))
        XCTAssertEqual(h.run(target: "/guarded", headers: token), .authorizerRefused(status: 403))
        XCTAssertEqual(h.run(target: "/guarded"), .authorizerRefused(status: 401))
    }

    func testAllowedRequestRunsOnWithTheAuthorizerContext() throws {
        var h = PipelineHarness(snapshot: try compileSnapshot(lambdaYaml))
        let principal = AuthorizedPrincipal(principalId: nil, context: ["tier": .string("premium")], usageIdentifierKey: nil)
        let decision = withRequest(method: "GET", target: "/guarded", headers: [("Authorization", "t2")]) { head in
            Pipeline.run(request: head, snapshot: h.snapshot, state: &h.state, requestId: h.requestId, nowNs: h.nowNs,
                         epochMs: fixedEpochMs, authorized: principal)
        }
        guard case .invoke = decision else { return XCTFail("expected the integration") }
        XCTAssertEqual(h.state.auth.lambda?.contextText("tier"), "premium")
    }
}

extension Pipeline {
    /// The raw decision for a request through a harness.
    static func runForTest(_ h: inout PipelineHarness, target: String, headers: [(String, String)] = []) -> PipelineDecision {
        withRequest(method: "GET", target: target, headers: headers) { head in
            Pipeline.run(request: head, snapshot: h.snapshot, state: &h.state, requestId: h.requestId, nowNs: h.nowNs,
                         epochMs: fixedEpochMs)
        }
    }
}
