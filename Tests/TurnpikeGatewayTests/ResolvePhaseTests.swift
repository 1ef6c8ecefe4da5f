import XCTest
import TurnpikeConfig
import TurnpikeGateway

/// Two APIs: `pets` (stages $default and prod, several overlapping routes) is listener 0's
/// default API; `orders` has only the stage v2; `fallback` has a `$default` route.
private let resolveConfig = """
    listeners:
      - name: public
        port: 8080
        defaultApi: pets
      - name: bare
        port: 8081
    targetGroups:
      - name: echo
        endpoints: ["127.0.0.1:9001"]
    apis:
      - name: pets
        apiId: pets1
        integrations:
          - { name: p, integrationType: HTTP_PROXY, integrationUri: "http://echo" }
        routes:
          - { routeKey: "ANY /{proxy+}", target: p }
          - { routeKey: "GET /pets/{petId}", target: p }
          - { routeKey: "GET /pets/dog", target: p }
          - { routeKey: "ANY /pets/{petId}", target: p }
        stages:
          - stageName: $default
          - stageName: prod
      - name: orders
        apiId: orders1
        integrations:
          - { name: o, integrationType: HTTP_PROXY, integrationUri: "http://echo" }
        routes:
          - { routeKey: "GET /orders", target: o }
        stages:
          - stageName: v2
      - name: fallback
        apiId: fallback1
        integrations:
          - { name: f, integrationType: HTTP_PROXY, integrationUri: "http://echo" }
        routes:
          - { routeKey: "GET /known", target: f }
          - { routeKey: "$default", target: f }
        stages:
          - stageName: $default
    domainNames:
      - domainName: api.example.com
        apiMappings:
          - { apiMappingKey: "", api: pets, stage: $default }
          - { apiMappingKey: "v1", api: pets, stage: prod }
          - { apiMappingKey: "shop/orders", api: orders, stage: v2 }
      - domainName: strict.example.com
        apiMappings:
          - { apiMappingKey: "v1", api: pets, stage: prod }
    """

private enum Route {
    static let proxy = 0, petById = 1, dog = 2, anyPetById = 3
}

final class ResolvePhaseTests: XCTestCase {
    var snapshot: GatewaySnapshot!

    override func setUpWithError() throws {
        snapshot = try compileSnapshot(resolveConfig)
    }

    private func expect(
        _ result: Result<Resolution, GatewayResponse>, api: Int, stage: Int, route: Int, pathStart: Int,
        domain: Int?, file: StaticString = #filePath, line: UInt = #line
    ) {
        switch result {
        case .success(let r):
            XCTAssertEqual(
                "api \(r.apiIndex) stage \(r.stageIndex) route \(r.routeIndex) pathStart \(r.pathStart) domain \(r.domainIndex.map(String.init) ?? "nil")",
                "api \(api) stage \(stage) route \(route) pathStart \(pathStart) domain \(domain.map(String.init) ?? "nil")",
                file: file, line: line)
        case .failure(let response):
            XCTFail("expected a resolution, got \(response)", file: file, line: line)
        }
    }

    // MARK: execute-api hosts

    func testExecuteApiHostSelectsApiByIdAndStripsStageSegment() {
        expect(resolve(snapshot, target: "/v2/orders", host: "orders1.execute-api.us-east-1.amazonaws.com"),
               api: 1, stage: 0, route: 0, pathStart: 3, domain: nil)
    }

    func testExecuteApiHostWithoutStageSegmentIsServedByDefaultStage() {
        expect(resolve(snapshot, target: "/pets/7", host: "pets1.execute-api.localhost:8080"),
               api: 0, stage: 0, route: Route.petById, pathStart: 0, domain: nil)
    }

    func testExecuteApiHostStageSegmentSelectsNamedStage() {
        expect(resolve(snapshot, target: "/prod/pets/7", host: "pets1.execute-api.localhost"),
               api: 0, stage: 1, route: Route.petById, pathStart: 5, domain: nil)
    }

    func testExecuteApiHostBeatsListenerDefaultApi() {
        expect(resolve(snapshot, target: "/v2/orders", host: "orders1.execute-api.x", listenerIndex: 0),
               api: 1, stage: 0, route: 0, pathStart: 3, domain: nil)
    }

    func testUnknownStageOfApiWithoutDefaultStageIsNotFound() {
        XCTAssertEqual(resolve(snapshot, target: "/v3/orders", host: "orders1.execute-api.x"), .failure(.notFound))
    }

    // MARK: listener default API

    func testUnknownHostIsServedByListenerDefaultApi() {
        expect(resolve(snapshot, target: "/pets/7", host: "127.0.0.1:8080", listenerIndex: 0),
               api: 0, stage: 0, route: Route.petById, pathStart: 0, domain: nil)
    }

    func testListenerDefaultApiHonoursStageSegment() {
        expect(resolve(snapshot, target: "/prod/pets/7", host: "127.0.0.1:8080", listenerIndex: 0),
               api: 0, stage: 1, route: Route.petById, pathStart: 5, domain: nil)
    }

    func testUnknownHostOnListenerWithoutDefaultApiIsNotFound() {
        XCTAssertEqual(resolve(snapshot, target: "/pets/7", host: "127.0.0.1:8081", listenerIndex: 1), .failure(.notFound))
    }

    func testMissingHostOnListenerWithoutDefaultApiIsNotFound() {
        XCTAssertEqual(resolve(snapshot, target: "/pets/7", host: nil, listenerIndex: 1), .failure(.notFound))
    }

    // MARK: custom domains

    func testCustomDomainEmptyMappingKeyServesTheRoot() {
        expect(resolve(snapshot, target: "/pets/7", host: "api.example.com"),
               api: 0, stage: 0, route: Route.petById, pathStart: 0, domain: 0)
    }

    func testCustomDomainBasePathSelectsMappedStageAndIsStripped() {
        expect(resolve(snapshot, target: "/v1/pets/7", host: "api.example.com"),
               api: 0, stage: 1, route: Route.petById, pathStart: 3, domain: 0)
    }

    func testCustomDomainMultiSegmentBasePathSelectsOtherApi() {
        expect(resolve(snapshot, target: "/shop/orders/orders", host: "api.example.com"),
               api: 1, stage: 0, route: 0, pathStart: 12, domain: 0)
    }

    func testCustomDomainMatchIgnoresCaseAndPort() {
        expect(resolve(snapshot, target: "/v1/pets/7", host: "API.Example.COM:8080"),
               api: 0, stage: 1, route: Route.petById, pathStart: 3, domain: 0)
    }

    func testCustomDomainBasePathMustBeWholeSegment() {
        // "/v1x/..." is not under the "v1" mapping: the root mapping serves it unstripped.
        expect(resolve(snapshot, target: "/v1x/pets", host: "api.example.com"),
               api: 0, stage: 0, route: Route.proxy, pathStart: 0, domain: 0)
    }

    func testCustomDomainWithoutMatchingMappingIsForbidden() {
        XCTAssertEqual(resolve(snapshot, target: "/v2/pets/7", host: "strict.example.com"), .failure(.forbidden))
    }

    func testCustomDomainBeatsListenerDefaultApi() {
        XCTAssertEqual(
            resolve(snapshot, target: "/pets/7", host: "strict.example.com", listenerIndex: 0), .failure(.forbidden))
    }

    // MARK: routes

    func testUnknownRouteIsNotFound() {
        XCTAssertEqual(resolve(snapshot, target: "/v2/customers", host: "orders1.execute-api.x"), .failure(.notFound))
    }

    func testMethodWithoutRouteIsNotFound() {
        XCTAssertEqual(
            resolve(snapshot, method: "POST", target: "/v2/orders", host: "orders1.execute-api.x"), .failure(.notFound))
    }

    func testLiteralRouteBeatsVariableRoute() {
        expect(resolve(snapshot, target: "/pets/dog", host: "api.example.com"),
               api: 0, stage: 0, route: Route.dog, pathStart: 0, domain: 0)
    }

    func testMethodRouteBeatsAnyRouteForSamePath() {
        expect(resolve(snapshot, method: "GET", target: "/pets/cat", host: "api.example.com"),
               api: 0, stage: 0, route: Route.petById, pathStart: 0, domain: 0)
    }

    func testAnyRouteTakesMethodsWithoutTheirOwnRoute() {
        expect(resolve(snapshot, method: "POST", target: "/pets/cat", host: "api.example.com"),
               api: 0, stage: 0, route: Route.anyPetById, pathStart: 0, domain: 0)
    }

    func testLiteralRouteOfOtherMethodFallsBackToAnyVariableRoute() {
        expect(resolve(snapshot, method: "POST", target: "/pets/dog", host: "api.example.com"),
               api: 0, stage: 0, route: Route.anyPetById, pathStart: 0, domain: 0)
    }

    func testVariableRouteBeatsGreedyRoute() {
        expect(resolve(snapshot, method: "DELETE", target: "/pets/7", host: "api.example.com"),
               api: 0, stage: 0, route: Route.anyPetById, pathStart: 0, domain: 0)
    }

    func testGreedyRouteTakesDeeperPaths() {
        expect(resolve(snapshot, target: "/pets/7/toys", host: "api.example.com"),
               api: 0, stage: 0, route: Route.proxy, pathStart: 0, domain: 0)
    }

    func testGreedyRouteDoesNotMatchTheRoot() {
        XCTAssertEqual(resolve(snapshot, target: "/", host: "api.example.com"), .failure(.notFound))
    }

    func testStageSegmentAloneRoutesAsRoot() {
        XCTAssertEqual(resolve(snapshot, target: "/prod", host: "pets1.execute-api.x"), .failure(.notFound))
    }

    func testDefaultRouteCatchesWhatNoRouteMatches() {
        expect(resolve(snapshot, method: "PUT", target: "/anything/at/all", host: "fallback1.execute-api.x"),
               api: 2, stage: 0, route: 1, pathStart: 0, domain: nil)
        expect(resolve(snapshot, target: "/known", host: "fallback1.execute-api.x"),
               api: 2, stage: 0, route: 0, pathStart: 0, domain: nil)
    }
}
