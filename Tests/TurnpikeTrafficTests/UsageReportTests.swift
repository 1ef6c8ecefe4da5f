import XCTest
@testable import TurnpikeTraffic

final class UsageReportTests: XCTestCase {
    private var path = ""
    private var store: QuotaStore!

    override func setUpWithError() throws {
        path = temporaryDatabasePath()
        store = try QuotaStore(path: path)
    }

    override func tearDown() {
        store.close()
        removeDatabase(at: path)
    }

    /// Plan "p1" (10 a month) with keys k2 and k1; k1 makes 3 requests on 2024-02-28 and 1 on 2024-03-01.
    /// The flush between the days stands in for the background flusher, which runs every second.
    private func fixture() throws -> UsagePlanSet {
        let keys = try ApiKeyRegistry(keys: [
            ApiKeySpec(id: "k1", name: "one", value: "v1"),
            ApiKeySpec(id: "k2", name: "two", value: "v2"),
        ])
        let set = try UsagePlanSet(
            plans: [UsagePlanSpec(id: "p1", name: "Plan", apiStages: [ApiStageSpec(apiIndex: 0, stageIndex: 0)],
                                  quota: QuotaSpec(limit: 10, period: .month), keyIds: ["k2", "k1"])],
            keys: keys, resolveRoute: { _, _ in nil }, store: store, nowEpochSeconds: epoch(2024, 2, 28))
        let binding = try XCTUnwrap(set.plan(forKey: try XCTUnwrap(keys.record(id: "k1")), apiIndex: 0, stageIndex: 0))
        for _ in 0 ..< 3 { XCTAssertEqual(binding.quota.consume(nowEpochSeconds: epoch(2024, 2, 28, 10)), .admitted) }
        try store.flush()
        XCTAssertEqual(binding.quota.consume(nowEpochSeconds: epoch(2024, 3, 1, 10)), .admitted)
        return set
    }

    func testGetUsageJSONForAPlanListsEveryKeyAndEveryDay() throws {
        let report = try fixture().usage(planId: "p1", keyId: nil, startDate: "2024-02-28", endDate: "2024-03-01")
        XCTAssertEqual(report.json(), """
            {"usagePlanId":"p1","startDate":"2024-02-28","endDate":"2024-03-01",\
            "values":{"k1":[[3,7],[0,7],[1,9]],"k2":[[0,10],[0,10],[0,10]]}}
            """)
    }

    func testRemainingOnTheFirstDayCountsEarlierDaysOfItsPeriod() throws {
        let report = try fixture().usage(planId: "p1", keyId: "k1", startDate: "2024-02-29", endDate: "2024-02-29")
        XCTAssertEqual(report.json(), """
            {"usagePlanId":"p1","startDate":"2024-02-29","endDate":"2024-02-29","values":{"k1":[[0,7]]}}
            """)
    }

    func testUsageSurvivesARestartOfTheStore() throws {
        _ = try fixture()
        store.close()
        store = try QuotaStore(path: path)
        let keys = try ApiKeyRegistry(keys: [ApiKeySpec(id: "k1", name: "one", value: "v1")])
        let set = try UsagePlanSet(
            plans: [UsagePlanSpec(id: "p1", name: "Plan", apiStages: [], quota: QuotaSpec(limit: 10, period: .month),
                                  keyIds: ["k1"])],
            keys: keys, resolveRoute: { _, _ in nil }, store: store, nowEpochSeconds: epoch(2024, 3, 1, 12))
        XCTAssertEqual(try set.usage(planId: "p1", keyId: "k1", startDate: "2024-02-28", endDate: "2024-03-01").items,
                       [UsageReport.KeyUsage(keyId: "k1", days: [
                           UsageReport.DailyUsage(used: 3, remaining: 7),
                           UsageReport.DailyUsage(used: 0, remaining: 7),
                           UsageReport.DailyUsage(used: 1, remaining: 9),
                       ])])
    }

    func testIdsAreEscapedInTheJSON() {
        let report = UsageReport(usagePlanId: "p\"1", startDate: "2024-01-01", endDate: "2024-01-01",
                                 items: [UsageReport.KeyUsage(keyId: "k\\\n", days: [UsageReport.DailyUsage(used: 1, remaining: 0)])])
        XCTAssertEqual(report.json(), #"{"usagePlanId":"p\"1","startDate":"2024-01-01","endDate":"2024-01-01","values":{"k\\\n":[[1,0]]}}"#)
    }

    func testBadQueriesAreRefusedWithStatusAndMessage() throws {
        let set = try fixture()
        XCTAssertThrowsError(try set.usage(planId: "nope", keyId: nil, startDate: "2024-02-28", endDate: "2024-03-01")) {
            XCTAssertEqual($0 as? UsageQueryError, .unknownPlan("nope"))
            XCTAssertEqual(($0 as? UsageQueryError)?.status, 404)
        }
        XCTAssertThrowsError(try set.usage(planId: "p1", keyId: "k9", startDate: "2024-02-28", endDate: "2024-03-01")) {
            XCTAssertEqual(($0 as? UsageQueryError)?.status, 404)
        }
        XCTAssertThrowsError(try set.usage(planId: "p1", keyId: nil, startDate: "2024-02-30", endDate: "2024-03-01")) {
            XCTAssertEqual($0 as? UsageQueryError, .invalidDate("2024-02-30"))
            XCTAssertEqual(($0 as? UsageQueryError)?.status, 400)
        }
        XCTAssertThrowsError(try set.usage(planId: "p1", keyId: nil, startDate: "2024-03-02", endDate: "2024-03-01")) {
            XCTAssertEqual($0 as? UsageQueryError, .endBeforeStart(start: "2024-03-02", end: "2024-03-01"))
        }
    }
}
