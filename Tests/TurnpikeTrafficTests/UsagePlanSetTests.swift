import XCTest
@testable import TurnpikeTraffic

final class UsagePlanSetTests: XCTestCase {
    // API 0 has routes "GET /pets" (0) and "POST /pets" (1); API 1 has "ANY /{proxy+}" (0).
    private let routes: [[String]] = [["GET /pets", "POST /pets"], ["ANY /{proxy+}"]]
    private let now = epoch(2024, 5, 17, 12)

    private func keys() throws -> ApiKeyRegistry {
        try ApiKeyRegistry(keys: [
            ApiKeySpec(id: "k1", name: "one", value: "value-one"),
            ApiKeySpec(id: "k2", name: "two", value: "value-two"),
            ApiKeySpec(id: "k3", name: "three", value: "value-three"),
        ])
    }

    private func plans(_ specs: [UsagePlanSpec], keys: ApiKeyRegistry) throws -> UsagePlanSet {
        try UsagePlanSet(plans: specs, keys: keys, resolveRoute: { api, key in
            api < self.routes.count ? self.routes[api].firstIndex(of: key) : nil
        }, store: nil, nowEpochSeconds: now)
    }

    private var gold: UsagePlanSpec {
        UsagePlanSpec(
            id: "gold", name: "Gold",
            apiStages: [
                ApiStageSpec(apiIndex: 0, stageIndex: 0, routeThrottles: [
                    RouteThrottleSpec(routeKey: "POST /pets", throttle: ThrottleSpec(burstLimit: 1, rateLimit: 1)),
                ]),
                ApiStageSpec(apiIndex: 0, stageIndex: 1),
            ],
            throttle: ThrottleSpec(burstLimit: 5, rateLimit: 10),
            quota: QuotaSpec(limit: 1000, period: .month),
            keyIds: ["k1", "k2"])
    }

    private var bronze: UsagePlanSpec {
        UsagePlanSpec(id: "bronze", name: "Bronze", apiStages: [ApiStageSpec(apiIndex: 1, stageIndex: 0)],
                      keyIds: ["k1", "k3"])
    }

    func testKeyGetsItsPlanOnEveryStageThePlanCovers() throws {
        let registry = try keys()
        let set = try plans([gold, bronze], keys: registry)
        let k1 = try XCTUnwrap(registry.record(id: "k1"))
        XCTAssertEqual(set.plan(forKey: k1, apiIndex: 0, stageIndex: 0)?.plan.id, "gold")
        XCTAssertEqual(set.plan(forKey: k1, apiIndex: 0, stageIndex: 1)?.plan.id, "gold")
        XCTAssertEqual(set.plan(forKey: k1, apiIndex: 1, stageIndex: 0)?.plan.id, "bronze")
        XCTAssertEqual(set.plan(forKey: k1, apiIndex: 0, stageIndex: 0)?.key.id, "k1")
    }

    func testKeyWhosePlansDoNotCoverTheStageHasNoBinding() throws {
        let registry = try keys()
        let set = try plans([gold, bronze], keys: registry)
        XCTAssertNil(set.plan(forKey: try XCTUnwrap(registry.record(id: "k3")), apiIndex: 0, stageIndex: 0))
        XCTAssertNil(set.plan(forKey: try XCTUnwrap(registry.record(id: "k2")), apiIndex: 1, stageIndex: 0))
        XCTAssertNil(set.plan(forKey: try XCTUnwrap(registry.record(id: "k1")), apiIndex: 0, stageIndex: 2))
    }

    func testThrottleAndQuotaAreOnePerKeyAcrossThePlansStages() throws {
        let registry = try keys()
        let set = try plans([gold], keys: registry)
        let k1 = try XCTUnwrap(registry.record(id: "k1"))
        let k2 = try XCTUnwrap(registry.record(id: "k2"))
        let stage0 = try XCTUnwrap(set.plan(forKey: k1, apiIndex: 0, stageIndex: 0))
        let stage1 = try XCTUnwrap(set.plan(forKey: k1, apiIndex: 0, stageIndex: 1))
        XCTAssertTrue(stage0.keyBucket === stage1.keyBucket)
        XCTAssertTrue(stage0.quota === stage1.quota)
        let other = try XCTUnwrap(set.plan(forKey: k2, apiIndex: 0, stageIndex: 0))
        XCTAssertFalse(stage0.keyBucket === other.keyBucket)
        // k1's burst of 5, spent through either stage, leaves k2's untouched.
        let bucket = try XCTUnwrap(stage0.keyBucket)
        XCTAssertEqual(drain(bucket.admit, nowNs: 0), 5)
        XCTAssertEqual(stage1.keyBucket?.admit(nowNs: 0), .limited(retryAfterSeconds: 1))
        XCTAssertEqual(other.keyBucket?.admit(nowNs: 0), .admitted)
    }

    func testRouteThrottleIsPerKeyAndOnlyOnItsRouteAndStage() throws {
        let registry = try keys()
        let set = try plans([gold], keys: registry)
        let k1 = try XCTUnwrap(set.plan(forKey: try XCTUnwrap(registry.record(id: "k1")), apiIndex: 0, stageIndex: 0))
        let k2 = try XCTUnwrap(set.plan(forKey: try XCTUnwrap(registry.record(id: "k2")), apiIndex: 0, stageIndex: 0))
        let k1Post = try XCTUnwrap(k1.routeBucket(routeIndex: 1))
        XCTAssertNil(k1.routeBucket(routeIndex: 0))
        XCTAssertNil(set.plan(forKey: try XCTUnwrap(registry.record(id: "k1")), apiIndex: 0, stageIndex: 1)?
            .routeBucket(routeIndex: 1))
        XCTAssertEqual(drain(k1Post.admit, nowNs: 0), 1)
        XCTAssertEqual(k2.routeBucket(routeIndex: 1)?.admit(nowNs: 0), .admitted)
    }

    func testRouteThrottleAppliesOnTopOfThePlansThrottle() throws {
        let registry = try keys()
        let set = try plans([gold], keys: registry)
        let binding = try XCTUnwrap(set.plan(forKey: try XCTUnwrap(registry.record(id: "k1")), apiIndex: 0, stageIndex: 0))
        var post = ThrottleChain()
        post.append(binding.routeBucket(routeIndex: 1))
        post.append(binding.keyBucket)
        var get = ThrottleChain()
        get.append(binding.routeBucket(routeIndex: 0))
        get.append(binding.keyBucket)
        XCTAssertEqual(drain(post.admit, nowNs: 0), 1)
        XCTAssertEqual(drain(get.admit, nowNs: 0), 4)
    }

    func testPlanWithoutThrottleHasNoKeyBucketButStillMetersRequests() throws {
        let registry = try keys()
        let set = try plans([bronze], keys: registry)
        let binding = try XCTUnwrap(set.plan(forKey: try XCTUnwrap(registry.record(id: "k3")), apiIndex: 1, stageIndex: 0))
        XCTAssertNil(binding.keyBucket)
        XCTAssertNil(binding.quota.quota)
        XCTAssertEqual(binding.quota.consume(nowEpochSeconds: now), .admitted)
    }

    func testKeyInTwoPlansForTheSameStageIsAConfigurationError() throws {
        var second = bronze
        second.apiStages = [ApiStageSpec(apiIndex: 0, stageIndex: 1)]
        XCTAssertThrowsError(try plans([gold, second], keys: keys())) {
            XCTAssertEqual($0 as? TrafficConfigError, .apiKeyInTwoPlansForStage(keyId: "k1", planId: "bronze", otherPlanId: "gold"))
        }
    }

    func testUnknownKeysRoutesAndDuplicatesAreConfigurationErrors() throws {
        var unknownKey = bronze
        unknownKey.keyIds = ["k9"]
        XCTAssertThrowsError(try plans([unknownKey], keys: keys())) {
            XCTAssertEqual($0 as? TrafficConfigError, .unknownApiKeyId(planId: "bronze", keyId: "k9"))
        }
        var unknownRoute = bronze
        unknownRoute.apiStages = [ApiStageSpec(apiIndex: 1, stageIndex: 0, routeThrottles: [
            RouteThrottleSpec(routeKey: "GET /pets", throttle: ThrottleSpec(burstLimit: 1, rateLimit: 1)),
        ])]
        XCTAssertThrowsError(try plans([unknownRoute], keys: keys())) {
            XCTAssertEqual($0 as? TrafficConfigError, .unknownRouteKey(planId: "bronze", routeKey: "GET /pets"))
        }
        XCTAssertThrowsError(try plans([bronze, bronze], keys: keys())) {
            XCTAssertEqual($0 as? TrafficConfigError, .duplicateUsagePlanId("bronze"))
        }
        var twice = bronze
        twice.apiStages = [ApiStageSpec(apiIndex: 1, stageIndex: 0), ApiStageSpec(apiIndex: 1, stageIndex: 0)]
        XCTAssertThrowsError(try plans([twice], keys: keys())) {
            XCTAssertEqual($0 as? TrafficConfigError, .duplicateApiStage(planId: "bronze", apiIndex: 1, stageIndex: 0))
        }
        var badQuota = bronze
        badQuota.quota = QuotaSpec(limit: 10, period: .week, offset: 7)
        XCTAssertThrowsError(try plans([badQuota], keys: keys())) {
            XCTAssertEqual($0 as? TrafficConfigError, .invalidQuotaOffset(period: .week, offset: 7))
        }
    }
}
