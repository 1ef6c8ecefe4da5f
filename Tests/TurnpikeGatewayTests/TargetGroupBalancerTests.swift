import XCTest
import TurnpikeConfig
import TurnpikeGateway

private let balancerConfig = """
    listeners:
      - name: public
        port: 8080
    targetGroups:
      - name: rr
        endpoints: ["127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"]
      - name: lo
        endpoints: ["127.0.0.1:9011", "127.0.0.1:9012", "127.0.0.1:9013"]
        loadBalancing: LEAST_OUTSTANDING
      - name: capped
        endpoints: ["127.0.0.1:9021", "127.0.0.1:9022"]
        maxConnectionsPerEndpoint: 1
      - name: single
        endpoints: ["127.0.0.1:9031"]
        passiveEjection: { consecutiveFailures: 2, ejectionSeconds: 10 }
    apis:
      - name: shop
        integrations:
          - { name: p, integrationType: HTTP_PROXY, integrationUri: "http://rr" }
        routes:
          - { routeKey: "ANY /{proxy+}", target: p }
        stages:
          - stageName: $default
    """

final class TargetGroupBalancerTests: XCTestCase {
    var snapshot: GatewaySnapshot!
    var balancer = TargetGroupBalancer()
    let now: UInt64 = 5_000_000_000

    override func setUpWithError() throws {
        snapshot = try compileSnapshot(balancerConfig)
        balancer = TargetGroupBalancer()
        balancer.adopt(snapshot)
    }

    private func group(_ name: String) -> (CompiledTargetGroup, Int) {
        let i = snapshot.targetGroups.firstIndex { $0.name == name }!
        return (snapshot.targetGroups[i], i)
    }

    /// The port of the endpoint picked, or nil.
    private func pick(_ name: String, excluding: UInt32? = nil, nowNs: UInt64? = nil) -> Int? {
        let (g, i) = group(name)
        return balancer.pick(group: g, groupIndex: i, nowNs: nowNs ?? now, excluding: excluding)?.endpoint.port
    }

    private func picks(_ name: String, _ count: Int) -> [Int?] {
        (0..<count).map { _ in pick(name) }
    }

    func testRoundRobinCyclesThroughEndpointsInOrder() {
        XCTAssertEqual(picks("rr", 7), [9001, 9002, 9003, 9001, 9002, 9003, 9001])
    }

    func testRoundRobinSkipsUnhealthyEndpointAndSharesEvenly() {
        group("rr").0.endpoints[1].setHealthy(false)
        XCTAssertEqual(picks("rr", 6), [9001, 9003, 9001, 9003, 9001, 9003])
    }

    func testRoundRobinReturnsRecoveredEndpointToRotation() {
        let endpoints = group("rr").0.endpoints
        endpoints[0].setHealthy(false)
        XCTAssertEqual(picks("rr", 2), [9002, 9003])
        endpoints[0].setHealthy(true)
        XCTAssertEqual(picks("rr", 3), [9001, 9002, 9003])
    }

    func testNoHealthyEndpointPicksNothing() {
        for e in group("rr").0.endpoints { e.setHealthy(false) }
        XCTAssertNil(pick("rr"))
    }

    func testEjectedEndpointIsSkippedUntilEjectionEnds() {
        let (g, _) = group("single")
        let e = g.endpoints[0]
        XCTAssertFalse(e.recordFailure(policy: g.passiveEjection, nowNs: now))
        XCTAssertEqual(pick("single"), 9031)
        XCTAssertTrue(e.recordFailure(policy: g.passiveEjection, nowNs: now))
        XCTAssertNil(pick("single"))
        XCTAssertNil(pick("single", nowNs: now + 9_999_999_999))
        XCTAssertEqual(pick("single", nowNs: now + 10_000_000_000), 9031)
    }

    func testLeastOutstandingPicksTheIdleEndpoint() {
        let endpoints = group("lo").0.endpoints
        balancer.begin(endpoints[0])
        balancer.begin(endpoints[1])
        XCTAssertEqual(pick("lo"), 9013)
        XCTAssertEqual(pick("lo"), 9013)
    }

    func testLeastOutstandingPicksTheLeastBusyWhenNoneIsIdle() {
        let endpoints = group("lo").0.endpoints
        for (e, n) in zip(endpoints, [2, 1, 3]) {
            for _ in 0..<n { balancer.begin(e) }
        }
        XCTAssertEqual(balancer.outstanding(endpoints[2]), 3)
        XCTAssertEqual(picks("lo", 3), [9012, 9012, 9012])
        balancer.end(endpoints[0])
        balancer.end(endpoints[0])
        XCTAssertEqual(pick("lo"), 9011)
    }

    func testMaxConnectionsPerEndpointIsRespected() {
        let endpoints = group("capped").0.endpoints
        balancer.begin(endpoints[0])
        XCTAssertEqual(picks("capped", 2), [9022, 9022])
        balancer.begin(endpoints[1])
        XCTAssertNil(pick("capped"))
        balancer.end(endpoints[0])
        XCTAssertEqual(pick("capped"), 9021)
    }

    func testEndNeverDropsBelowZero() {
        let e = group("capped").0.endpoints[0]
        balancer.end(e)
        XCTAssertEqual(balancer.outstanding(e), 0)
        balancer.begin(e)
        XCTAssertNil(pick("capped", excluding: group("capped").0.endpoints[1].id))
    }

    func testExcludingSkipsTheEndpointAlreadyTried() {
        let first = group("rr").0.endpoints[0]
        XCTAssertEqual((0..<6).map { _ in pick("rr", excluding: first.id) }, [9002, 9003, 9002, 9003, 9002, 9003])
    }

    func testExcludingTheOnlyEndpointPicksNothing() {
        XCTAssertNil(pick("single", excluding: group("single").0.endpoints[0].id))
    }

    func testAdoptingANewSnapshotRestartsRotation() throws {
        XCTAssertEqual(picks("rr", 2), [9001, 9002])
        balancer.adopt(snapshot)
        XCTAssertEqual(pick("rr"), 9003)
        let next = try compileSnapshot(balancerConfig, generation: 2)
        balancer.adopt(next)
        let g = next.targetGroups[0]
        XCTAssertEqual(balancer.pick(group: g, groupIndex: 0, nowNs: now)?.endpoint.port, 9001)
    }
}
