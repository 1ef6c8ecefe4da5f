import XCTest
@testable import TurnpikeTraffic

final class QuotaCounterTests: XCTestCase {
    private func counter(_ period: QuotaPeriodType, limit: Int, offset: Int = 0, used: Int = 0, now: Int64) throws -> QuotaCounter {
        QuotaCounter(planId: "p", keyId: "k", quota: try QuotaPeriod(QuotaSpec(limit: limit, period: period, offset: offset)),
                     usedInCurrentPeriod: used, nowEpochSeconds: now)
    }

    func testQuotaAdmitsTheLimitThenRefusesUntilThePeriodEnds() throws {
        let noon = epoch(2024, 5, 17, 12)
        let c = try counter(.day, limit: 3, now: noon)
        for _ in 0 ..< 3 { XCTAssertEqual(c.consume(nowEpochSeconds: noon), .admitted) }
        XCTAssertEqual(c.consume(nowEpochSeconds: noon), .limited(retryAfterSeconds: 12 * 3600))
        XCTAssertEqual(c.consume(nowEpochSeconds: epoch(2024, 5, 17, 23, 59, 59)), .limited(retryAfterSeconds: 1))
        XCTAssertEqual(c.used(nowEpochSeconds: noon), 3)
        XCTAssertEqual(c.consume(nowEpochSeconds: epoch(2024, 5, 18)), .admitted)
        XCTAssertEqual(c.used(nowEpochSeconds: epoch(2024, 5, 18)), 1)
    }

    func testMonthlyQuotaResetsAtTheOffsetDayNotTheCalendarMonth() throws {
        let c = try counter(.month, limit: 2, offset: 9, now: epoch(2024, 1, 31)) // periods start on the 10th
        XCTAssertEqual(c.consume(nowEpochSeconds: epoch(2024, 1, 31)), .admitted)
        XCTAssertEqual(c.consume(nowEpochSeconds: epoch(2024, 2, 1)), .admitted)
        XCTAssertEqual(c.consume(nowEpochSeconds: epoch(2024, 2, 9, 23)), .limited(retryAfterSeconds: 3600))
        XCTAssertEqual(c.consume(nowEpochSeconds: epoch(2024, 2, 10)), .admitted)
    }

    func testCountLoadedFromTheStoreCountsAgainstTheLimit() throws {
        let now = epoch(2024, 5, 17)
        let c = try counter(.month, limit: 10, used: 9, now: now)
        XCTAssertEqual(c.consume(nowEpochSeconds: now), .admitted)
        XCTAssertEqual(c.consume(nowEpochSeconds: now), .limited(retryAfterSeconds: 15 * 86_400))
    }

    func testZeroLimitRefusesEveryRequest() throws {
        let now = epoch(2024, 5, 17)
        XCTAssertEqual(try counter(.week, limit: 0, now: now).consume(nowEpochSeconds: now),
                       .limited(retryAfterSeconds: 2 * 86_400)) // Friday → Sunday
    }

    func testClockSteppingBackDoesNotReopenAnEarlierPeriod() throws {
        let c = try counter(.day, limit: 1, now: epoch(2024, 5, 17))
        XCTAssertEqual(c.consume(nowEpochSeconds: epoch(2024, 5, 18)), .admitted)
        XCTAssertEqual(c.consume(nowEpochSeconds: epoch(2024, 5, 17, 23)), .limited(retryAfterSeconds: 3600))
    }

    func testPlanWithoutQuotaAdmitsEverything() {
        let c = QuotaCounter(planId: "p", keyId: "k", quota: nil, nowEpochSeconds: 0)
        for _ in 0 ..< 1000 { XCTAssertEqual(c.consume(nowEpochSeconds: 1_700_000_000), .admitted) }
        XCTAssertEqual(c.used(nowEpochSeconds: 1_700_000_000), 0)
    }

    func testManyThreadsAdmitExactlyTheLimit() throws {
        let now = epoch(2024, 5, 17)
        let c = try counter(.month, limit: 10_000, now: now)
        let tally = Tally()
        runOnThreads(8) { _ in
            var admitted = 0
            for _ in 0 ..< 20_000 where c.consume(nowEpochSeconds: now) == .admitted { admitted += 1 }
            tally.add(admitted)
        }
        XCTAssertEqual(tally.total, 10_000)
        var deltas: [(day: Int64, count: Int)] = []
        c.drain(into: &deltas)
        XCTAssertEqual(deltas.map(\.count).reduce(0, +), 10_000)
    }
}
