import XCTest
@testable import TurnpikeTraffic

final class QuotaStoreTests: XCTestCase {
    private var path = ""

    override func setUp() {
        path = temporaryDatabasePath()
    }

    override func tearDown() {
        removeDatabase(at: path)
    }

    private func monthly(_ limit: Int) throws -> QuotaPeriod {
        try QuotaPeriod(QuotaSpec(limit: limit, period: .month))
    }

    func testMonthlyQuotaSurvivesARestart() throws {
        let now = epoch(2024, 5, 17, 9)
        let first = try QuotaStore(path: path)
        let counter = try first.counter(planId: "gold", keyId: "k1", quota: monthly(5), nowEpochSeconds: now)
        for _ in 0 ..< 3 { XCTAssertEqual(counter.consume(nowEpochSeconds: now), .admitted) }
        first.close()

        let second = try QuotaStore(path: path)
        defer { second.close() }
        let restarted = try second.counter(planId: "gold", keyId: "k1", quota: monthly(5), nowEpochSeconds: now + 60)
        XCTAssertEqual(restarted.used(nowEpochSeconds: now + 60), 3)
        XCTAssertEqual(restarted.consume(nowEpochSeconds: now + 60), .admitted)
        XCTAssertEqual(restarted.consume(nowEpochSeconds: now + 60), .admitted)
        XCTAssertEqual(restarted.consume(nowEpochSeconds: now + 60), .limited(retryAfterSeconds: Int(epoch(2024, 6, 1) - now - 60)))
    }

    func testRestartInANewPeriodStartsFromZero() throws {
        let first = try QuotaStore(path: path)
        let counter = try first.counter(planId: "gold", keyId: "k1", quota: monthly(5), nowEpochSeconds: epoch(2024, 4, 30, 23))
        for _ in 0 ..< 5 { XCTAssertEqual(counter.consume(nowEpochSeconds: epoch(2024, 4, 30, 23)), .admitted) }
        try first.flush()
        first.close()

        let second = try QuotaStore(path: path)
        defer { second.close() }
        let may = try second.counter(planId: "gold", keyId: "k1", quota: monthly(5), nowEpochSeconds: epoch(2024, 5, 1))
        XCTAssertEqual(may.used(nowEpochSeconds: epoch(2024, 5, 1)), 0)
        XCTAssertEqual(try second.dailyCounts(planId: "gold", keyId: "k1", from: CalendarDay(iso: "2024-04-30")!,
                                              through: CalendarDay(iso: "2024-05-01")!), [5, 0])
    }

    func testWeeklyQuotaAfterRestartSumsOnlyTheDaysOfTheCurrentWeek() throws {
        let weekly = try QuotaPeriod(QuotaSpec(limit: 100, period: .week, offset: 1)) // Monday
        let first = try QuotaStore(path: path)
        let counter = try first.counter(planId: "p", keyId: "k", quota: weekly, nowEpochSeconds: epoch(2024, 5, 12))
        _ = counter.consume(nowEpochSeconds: epoch(2024, 5, 12, 23)) // Sunday: last week
        for day: Int64 in [13, 14, 15] {
            try first.flush() // what the background flusher does every second
            _ = counter.consume(nowEpochSeconds: epoch(2024, 5, day, 10))
        }
        first.close()

        let second = try QuotaStore(path: path)
        defer { second.close() }
        let restarted = try second.counter(planId: "p", keyId: "k", quota: weekly, nowEpochSeconds: epoch(2024, 5, 16))
        XCTAssertEqual(restarted.used(nowEpochSeconds: epoch(2024, 5, 16)), 3)
    }

    func testReloadGetsBackTheSameCounterWithItsUnflushedCounts() throws {
        let store = try QuotaStore(path: path)
        defer { store.close() }
        let now = epoch(2024, 5, 17)
        let before = try store.counter(planId: "p", keyId: "k", quota: monthly(5), nowEpochSeconds: now)
        _ = before.consume(nowEpochSeconds: now)
        let after = try store.counter(planId: "p", keyId: "k", quota: monthly(5), nowEpochSeconds: now)
        XCTAssertTrue(before === after)
    }

    func testChangedQuotaSettingsStartFromEverythingCountedSoFar() throws {
        let store = try QuotaStore(path: path)
        defer { store.close() }
        let now = epoch(2024, 5, 17)
        let old = try store.counter(planId: "p", keyId: "k", quota: monthly(5), nowEpochSeconds: now)
        _ = old.consume(nowEpochSeconds: now)
        _ = old.consume(nowEpochSeconds: now)
        let raised = try store.counter(planId: "p", keyId: "k", quota: monthly(10), nowEpochSeconds: now)
        XCTAssertFalse(old === raised)
        XCTAssertEqual(raised.used(nowEpochSeconds: now), 2)
    }

    func testUsageIsRecordedPerUTCDayAndFlushesAddUp() throws {
        let store = try QuotaStore(path: path)
        let counter = try store.counter(planId: "p", keyId: "k", quota: nil, nowEpochSeconds: epoch(2024, 2, 28))
        _ = counter.consume(nowEpochSeconds: epoch(2024, 2, 28, 23, 59, 59))
        try store.flush()
        _ = counter.consume(nowEpochSeconds: epoch(2024, 2, 28, 23, 59, 59))
        _ = counter.consume(nowEpochSeconds: epoch(2024, 2, 29))
        try store.flush()
        try store.flush()
        _ = counter.consume(nowEpochSeconds: epoch(2024, 3, 1, 12))
        store.close()

        let reopened = try QuotaStore(path: path)
        defer { reopened.close() }
        XCTAssertEqual(try reopened.dailyCounts(planId: "p", keyId: "k", from: CalendarDay(iso: "2024-02-27")!,
                                                through: CalendarDay(iso: "2024-03-01")!), [0, 2, 1, 1])
        XCTAssertEqual(try reopened.dailyCounts(planId: "p", keyId: "other", from: CalendarDay(iso: "2024-02-28")!,
                                                through: CalendarDay(iso: "2024-02-28")!), [0])
    }

    func testCountsNotFlushedForOverADayAreKeptUnderTheOlderDay() throws {
        // Two days share a day word (by parity): without the flusher in between, the later day's
        // requests are added to the earlier day's row rather than lost.
        let store = try QuotaStore(path: path)
        defer { store.close() }
        let counter = try store.counter(planId: "p", keyId: "k", quota: nil, nowEpochSeconds: epoch(2024, 5, 1))
        _ = counter.consume(nowEpochSeconds: epoch(2024, 5, 1))
        _ = counter.consume(nowEpochSeconds: epoch(2024, 5, 3))
        XCTAssertEqual(try store.dailyCounts(planId: "p", keyId: "k", from: CalendarDay(iso: "2024-05-01")!,
                                             through: CalendarDay(iso: "2024-05-03")!), [2, 0, 0])
    }

    func testCountsFromManyThreadsAreAllWritten() throws {
        let store = try QuotaStore(path: path)
        let now = epoch(2024, 5, 17)
        let counter = try store.counter(planId: "p", keyId: "k", quota: nil, nowEpochSeconds: now)
        runOnThreads(8) { _ in
            for index in 0 ..< 10_000 {
                _ = counter.consume(nowEpochSeconds: now)
                if index % 2500 == 0 { try? store.flush() }
            }
        }
        store.close()
        let reopened = try QuotaStore(path: path)
        defer { reopened.close() }
        XCTAssertEqual(try reopened.dailyCounts(planId: "p", keyId: "k", from: CalendarDay(epochSeconds: now),
                                                through: CalendarDay(epochSeconds: now)), [80_000])
    }

    func testClosedStoreRefusesFurtherUse() throws {
        let store = try QuotaStore(path: path)
        store.close()
        store.close()
        XCTAssertThrowsError(try store.flush()) { XCTAssertEqual($0 as? QuotaStoreError, .closed) }
    }

    func testUnopenableFileIsAStoreError() {
        XCTAssertThrowsError(try QuotaStore(path: "/nonexistent-directory/quota.sqlite")) { error in
            guard case .sqlite = error as? QuotaStoreError else { return XCTFail("\(error)") }
        }
    }
}
