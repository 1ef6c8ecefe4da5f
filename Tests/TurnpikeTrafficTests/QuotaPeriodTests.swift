import XCTest
@testable import TurnpikeTraffic

final class QuotaPeriodTests: XCTestCase {
    private func quota(_ period: QuotaPeriodType, offset: Int = 0, limit: Int = 100) throws -> QuotaPeriod {
        try QuotaPeriod(QuotaSpec(limit: limit, period: period, offset: offset))
    }

    private func assertPeriod(_ q: QuotaPeriod, at instant: Int64, starts start: Int64, ends end: Int64,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(CalendarDay(epochSeconds: q.periodStart(epochSeconds: instant)).iso,
                       CalendarDay(epochSeconds: start).iso, "start", file: file, line: line)
        XCTAssertEqual(q.periodStart(epochSeconds: instant), start, file: file, line: line)
        XCTAssertEqual(q.periodEnd(epochSeconds: instant), end, file: file, line: line)
    }

    func testCalendarDaysRoundTripAndKnowLeapYears() {
        XCTAssertEqual(CalendarDay(iso: "1970-01-01")?.daysSinceEpoch, 0)
        XCTAssertEqual(CalendarDay(iso: "2024-02-29")?.daysSinceEpoch, 19782)
        XCTAssertEqual(CalendarDay(daysSinceEpoch: 19782).iso, "2024-02-29")
        XCTAssertEqual(CalendarDay(iso: "2000-02-29")?.iso, "2000-02-29")
        XCTAssertNil(CalendarDay(iso: "2023-02-29"))
        XCTAssertNil(CalendarDay(iso: "2100-02-29"))
        XCTAssertNil(CalendarDay(iso: "2024-13-01"))
        XCTAssertNil(CalendarDay(iso: "2024-2-01"))
        XCTAssertNil(CalendarDay(iso: "2024-02-01T00:00"))
        // Every 997th day from 0001-01-01 to 9999-12-31 survives formatting and parsing.
        for days in stride(from: Int64(-719_162), through: 2_932_896, by: 997) {
            let day = CalendarDay(daysSinceEpoch: days)
            XCTAssertEqual(CalendarDay(iso: day.iso), day, day.iso)
        }
        XCTAssertEqual(CalendarDay(daysSinceEpoch: -719_162).iso, "0001-01-01")
        XCTAssertEqual(CalendarDay(daysSinceEpoch: 2_932_896).iso, "9999-12-31")
        XCTAssertEqual(Civil.weekday(days: 0), 4) // 1970-01-01 was a Thursday
        XCTAssertEqual(Civil.weekday(days: CalendarDay(iso: "2024-01-01")!.daysSinceEpoch), 1) // a Monday
    }

    func testDayPeriodIsTheUTCDay() throws {
        let q = try quota(.day)
        assertPeriod(q, at: epoch(2024, 2, 29, 13, 5), starts: epoch(2024, 2, 29), ends: epoch(2024, 3, 1))
        assertPeriod(q, at: epoch(2023, 12, 31, 23, 59, 59), starts: epoch(2023, 12, 31), ends: epoch(2024, 1, 1))
        assertPeriod(q, at: epoch(2024, 1, 1), starts: epoch(2024, 1, 1), ends: epoch(2024, 1, 2))
    }

    func testWeekOffsetZeroStartsOnSundayAcrossTheYearBoundary() throws {
        let q = try quota(.week, offset: 0)
        assertPeriod(q, at: epoch(2024, 1, 3, 8), starts: epoch(2023, 12, 31), ends: epoch(2024, 1, 7))
        assertPeriod(q, at: epoch(2023, 12, 30, 23, 59, 59), starts: epoch(2023, 12, 24), ends: epoch(2023, 12, 31))
    }

    func testWeekOffsetOneStartsOnMonday() throws {
        let q = try quota(.week, offset: 1)
        assertPeriod(q, at: epoch(2024, 1, 3, 8), starts: epoch(2024, 1, 1), ends: epoch(2024, 1, 8))
        assertPeriod(q, at: epoch(2023, 12, 31, 23), starts: epoch(2023, 12, 25), ends: epoch(2024, 1, 1))
        assertPeriod(q, at: epoch(2024, 1, 1), starts: epoch(2024, 1, 1), ends: epoch(2024, 1, 8))
    }

    func testWeekOffsetSixStartsOnSaturday() throws {
        let q = try quota(.week, offset: 6)
        assertPeriod(q, at: epoch(2024, 1, 6), starts: epoch(2024, 1, 6), ends: epoch(2024, 1, 13))
        assertPeriod(q, at: epoch(2024, 1, 5, 23, 59, 59), starts: epoch(2023, 12, 30), ends: epoch(2024, 1, 6))
        assertPeriod(q, at: epoch(2024, 2, 29), starts: epoch(2024, 2, 24), ends: epoch(2024, 3, 2))
    }

    func testMonthOffsetZeroIsTheCalendarMonthAcrossTheYearBoundary() throws {
        let q = try quota(.month)
        assertPeriod(q, at: epoch(2023, 12, 31, 23, 59, 59), starts: epoch(2023, 12, 1), ends: epoch(2024, 1, 1))
        assertPeriod(q, at: epoch(2024, 1, 1), starts: epoch(2024, 1, 1), ends: epoch(2024, 2, 1))
        assertPeriod(q, at: epoch(2024, 2, 29, 12), starts: epoch(2024, 2, 1), ends: epoch(2024, 3, 1))
    }

    func testMonthOffsetStartsOnThatDayOfTheMonth() throws {
        let q = try quota(.month, offset: 14) // the 15th
        assertPeriod(q, at: epoch(2024, 1, 10), starts: epoch(2023, 12, 15), ends: epoch(2024, 1, 15))
        assertPeriod(q, at: epoch(2024, 1, 15), starts: epoch(2024, 1, 15), ends: epoch(2024, 2, 15))
        assertPeriod(q, at: epoch(2024, 1, 14, 23, 59, 59), starts: epoch(2023, 12, 15), ends: epoch(2024, 1, 15))
    }

    func testMonthOffsetPastTheEndOfAShortMonthStartsOnItsLastDay() throws {
        let q = try quota(.month, offset: 30) // the 31st
        assertPeriod(q, at: epoch(2024, 3, 15), starts: epoch(2024, 2, 29), ends: epoch(2024, 3, 31))
        assertPeriod(q, at: epoch(2023, 3, 15), starts: epoch(2023, 2, 28), ends: epoch(2023, 3, 31))
        assertPeriod(q, at: epoch(2024, 2, 28, 23), starts: epoch(2024, 1, 31), ends: epoch(2024, 2, 29))
        assertPeriod(q, at: epoch(2024, 4, 30), starts: epoch(2024, 4, 30), ends: epoch(2024, 5, 31))
        assertPeriod(q, at: epoch(2024, 12, 31, 1), starts: epoch(2024, 12, 31), ends: epoch(2025, 1, 31))
    }

    func testCenturyLeapRulesDecideWhereFebruaryPeriodsStart() throws {
        let q = try quota(.month, offset: 28) // the 29th
        assertPeriod(q, at: epoch(2000, 3, 1), starts: epoch(2000, 2, 29), ends: epoch(2000, 3, 29))
        assertPeriod(q, at: epoch(2100, 3, 1), starts: epoch(2100, 2, 28), ends: epoch(2100, 3, 29))
    }

    func testOffsetsOutsideThePeriodAreConfigurationErrors() {
        XCTAssertThrowsError(try quota(.day, offset: 1)) {
            XCTAssertEqual($0 as? TrafficConfigError, .invalidQuotaOffset(period: .day, offset: 1))
        }
        XCTAssertThrowsError(try quota(.week, offset: 7))
        XCTAssertThrowsError(try quota(.week, offset: -1))
        XCTAssertThrowsError(try quota(.month, offset: 31))
        XCTAssertNoThrow(try quota(.month, offset: 30))
        XCTAssertThrowsError(try quota(.day, limit: -1)) {
            XCTAssertEqual($0 as? TrafficConfigError, .invalidQuotaLimit(-1))
        }
    }
}
