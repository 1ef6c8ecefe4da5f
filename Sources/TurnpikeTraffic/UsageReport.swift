/// Why a usage query was refused, with the status and message the admin endpoint answers.
public enum UsageQueryError: Error, Equatable, Sendable {
    case unknownPlan(String)
    case keyNotInPlan(planId: String, keyId: String)
    case invalidDate(String)
    case endBeforeStart(start: String, end: String)
    case notRecorded
    case store(QuotaStoreError)

    public var status: Int {
        switch self {
        case .unknownPlan, .keyNotInPlan: return 404
        case .invalidDate, .endBeforeStart: return 400
        case .notRecorded, .store: return 500
        }
    }

    public var message: String {
        switch self {
        case let .unknownPlan(id): return "Invalid Usage Plan ID specified: \(id)"
        case let .keyNotInPlan(planId, keyId): return "API key \(keyId) is not in usage plan \(planId)"
        case let .invalidDate(text): return "Invalid date \(text): expected YYYY-MM-DD"
        case let .endBeforeStart(start, end): return "The end date \(end) is before the start date \(start)"
        case .notRecorded: return "Usage is not recorded: no quota store is configured"
        case let .store(error): return error.message
        }
    }
}

/// A usage plan's daily usage per key over a date range: API Gateway's GetUsage result.
///
/// Each day is [used, remaining]: requests made that UTC day, and the quota left at the end of it
/// in the quota period that day belongs to ("daily logs of used and remaining quotas ... the daily log
/// entry is of the format [used quota, remaining quota]" — API Reference, GetUsage). Every day of the
/// range has an entry, days without requests too. A plan without a quota has nothing to subtract
/// from; its remaining is reported as 0.
public struct UsageReport: Sendable, Equatable {
    /// One key's entries, one per day of the range in order.
    public struct KeyUsage: Sendable, Equatable {
        public let keyId: String
        public let days: [DailyUsage]
    }

    /// One day's `[used, remaining]` pair.
    public struct DailyUsage: Sendable, Equatable {
        public let used: Int
        public let remaining: Int
    }

    public let usagePlanId: String
    public let startDate: String
    public let endDate: String
    /// Sorted by key id.
    public let items: [KeyUsage]

    /// The GetUsage response body as API Gateway sends it on the wire.
    ///
    /// The map of key id to entries is named `values`: that is the JSON name in GetUsage's "Response
    /// Syntax" (API Reference, GetUsage: `{"endDate", "values": {"string": [[number]]}, "position",
    /// "startDate", "usagePlanId"}`). The SDKs and `aws apigateway get-usage` rename it `items` when
    /// they parse it, so this is what an AWS client pointed at Turnpike expects. There is no paging,
    /// so `position` is left out, as API Gateway leaves out fields it has no value for.
    public func json() -> String {
        var out = "{\"usagePlanId\":"
        Self.appendString(usagePlanId, to: &out)
        out += ",\"startDate\":"
        Self.appendString(startDate, to: &out)
        out += ",\"endDate\":"
        Self.appendString(endDate, to: &out)
        out += ",\"values\":{"
        for (index, item) in items.enumerated() {
            if index > 0 { out += "," }
            Self.appendString(item.keyId, to: &out)
            out += ":["
            for (dayIndex, day) in item.days.enumerated() {
                if dayIndex > 0 { out += "," }
                out += "[\(day.used),\(day.remaining)]"
            }
            out += "]"
        }
        out += "}}"
        return out
    }

    private static func appendString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension UsagePlanSet {
    /// GetUsage for one plan: every key of the plan (or only `keyId`), each day from `startDate` through `endDate` (`YYYY-MM-DD`, UTC, both included).
    public func usage(planId: String, keyId: String?, startDate: String, endDate: String) throws(UsageQueryError) -> UsageReport {
        guard let plan = plan(id: planId) else { throw .unknownPlan(planId) }
        guard let first = CalendarDay(iso: startDate) else { throw .invalidDate(startDate) }
        guard let last = CalendarDay(iso: endDate) else { throw .invalidDate(endDate) }
        guard first <= last else { throw .endBeforeStart(start: startDate, end: endDate) }
        let keyIds: [String]
        if let keyId {
            guard plan.keyIds.contains(keyId) else { throw .keyNotInPlan(planId: planId, keyId: keyId) }
            keyIds = [keyId]
        } else {
            keyIds = Array(Set(plan.keyIds)).sorted()
        }
        guard let store = usageStore else { throw .notRecorded }
        // Remaining quota on the first day depends on the days of its period before the range.
        let readFrom = plan.quota.map { CalendarDay(daysSinceEpoch: $0.startDay(containing: first.daysSinceEpoch)) } ?? first
        var items: [UsageReport.KeyUsage] = []
        for id in keyIds {
            let counts: [Int]
            do {
                counts = try store.dailyCounts(planId: planId, keyId: id, from: readFrom, through: last)
            } catch {
                throw .store(error)
            }
            var days: [UsageReport.DailyUsage] = []
            var periodStart = Int64.min
            var usedInPeriod = 0
            for day in readFrom.daysSinceEpoch ... last.daysSinceEpoch {
                let used = counts[Int(day - readFrom.daysSinceEpoch)]
                var remaining = 0
                if let quota = plan.quota {
                    let start = quota.startDay(containing: day)
                    if start != periodStart {
                        periodStart = start
                        usedInPeriod = 0
                    }
                    usedInPeriod += used
                    remaining = max(0, quota.limit - usedInPeriod)
                }
                if day >= first.daysSinceEpoch {
                    days.append(UsageReport.DailyUsage(used: used, remaining: remaining))
                }
            }
            items.append(UsageReport.KeyUsage(keyId: id, days: days))
        }
        return UsageReport(usagePlanId: planId, startDate: startDate, endDate: endDate, items: items)
    }
}
