/// A validated quota: at most `limit` requests per UTC day, week or month, with periods starting on the day `offset` names.
///
/// What `offset` means: the AWS SDK models document QuotaSettings.offset as "The day that a time
/// period starts. For example, with a time period of WEEK, an offset of 0 starts on Sunday, and an
/// offset of 1 starts on Monday." (e.g. aws-sdk-apigateway for Ruby 1.73, `Aws::APIGateway::Types::QuotaSettings`;
/// the same text is in the Swift and Go SDKs). Older pages of the API Reference and CloudFormation
/// describe it instead as "the number of requests subtracted from the given limit in the initial
/// time period"; Turnpike follows the day reading, which is the one that defines when periods reset.
/// - DAY: every UTC day from 00:00; the offset must be 0 (a day has no day to start on).
/// - WEEK: from 00:00 UTC on weekday `offset` (0 = Sunday … 6 = Saturday) to the same time 7 days later.
/// - MONTH: from 00:00 UTC on day `offset + 1` of the month (0 = the 1st, like WEEK's 0 = the first
///   day, and so that the default offset 0 is the calendar month) to the same day of the next month.
///   A month without that day starts its period on its last day instead (offset 30 = the 31st, which
///   in February is the 28th or 29th), so no month is skipped.
public struct QuotaPeriod: Sendable, Equatable {
    public let limit: Int
    public let period: QuotaPeriodType
    public let offset: Int

    public init(_ spec: QuotaSpec) throws(TrafficConfigError) {
        guard spec.limit >= 0 else { throw .invalidQuotaLimit(spec.limit) }
        let maxOffset = switch spec.period {
        case .day: 0
        case .week: 6
        case .month: 30
        }
        guard (0 ... maxOffset).contains(spec.offset) else {
            throw .invalidQuotaOffset(period: spec.period, offset: spec.offset)
        }
        limit = spec.limit
        period = spec.period
        offset = spec.offset
    }

    /// Epoch seconds at which the period containing `epochSeconds` began.
    public func periodStart(epochSeconds: Int64) -> Int64 {
        startDay(containing: Civil.floorDiv(epochSeconds, 86_400)) * 86_400
    }

    /// Epoch seconds at which the period containing `epochSeconds` ends: the next period's start, exclusive.
    public func periodEnd(epochSeconds: Int64) -> Int64 {
        endDay(afterStartDay: startDay(containing: Civil.floorDiv(epochSeconds, 86_400))) * 86_400
    }

    /// First day (days since epoch) of the period containing `day`.
    func startDay(containing day: Int64) -> Int64 {
        switch period {
        case .day:
            return day
        case .week:
            return day - Civil.floorMod(Civil.weekday(days: day) - Int64(offset), 7)
        case .month:
            let (year, month, dayOfMonth) = Civil.date(days: day)
            let anchor = anchorDay(year: year, month: month)
            if dayOfMonth >= anchor { return Civil.days(year: year, month: month, day: anchor) }
            let (previousYear, previousMonth) = month == 1 ? (year - 1, Int64(12)) : (year, month - 1)
            return Civil.days(year: previousYear, month: previousMonth,
                              day: anchorDay(year: previousYear, month: previousMonth))
        }
    }

    /// First day of the period after the one starting on `startDay`.
    func endDay(afterStartDay startDay: Int64) -> Int64 {
        switch period {
        case .day:
            return startDay + 1
        case .week:
            return startDay + 7
        case .month:
            let (year, month, _) = Civil.date(days: startDay)
            let (nextYear, nextMonth) = month == 12 ? (year + 1, Int64(1)) : (year, month + 1)
            return Civil.days(year: nextYear, month: nextMonth, day: anchorDay(year: nextYear, month: nextMonth))
        }
    }

    /// A number that is the same for every instant of one period and grows by one per period: what the in-memory counter keys its count by.
    func ordinal(epochSeconds: Int64) -> Int64 {
        let start = startDay(containing: Civil.floorDiv(epochSeconds, 86_400))
        switch period {
        case .day:
            return start
        case .week:
            // Every week start is the same weekday, so consecutive starts differ by exactly 7.
            return Civil.floorDiv(start, 7)
        case .month:
            let (year, month, _) = Civil.date(days: start)
            return year * 12 + month - 1
        }
    }

    private func anchorDay(year: Int64, month: Int64) -> Int64 {
        min(Int64(offset) + 1, Civil.daysInMonth(year: year, month: month))
    }
}
