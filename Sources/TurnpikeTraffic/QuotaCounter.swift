import Atomics

/// The requests one API key made under one usage plan: checked against the plan's quota on the request path, and metered per UTC day for `QuotaStore`.
///
/// Two kinds of atomic words, no locks:
/// - the period word, (period ordinal << 40) | requests used in that period: one compare-and-swap
///   checks the limit, counts the request and starts a new period when the clock has moved into one;
/// - two day words, (day << 40) | requests not yet written, used by day parity so the day that just
///   ended and the current one never share a word. The store's flusher drains them once a second.
///   If a day word still holds an older day's count (the flusher has been stuck for a whole day),
///   new requests are added to that older day rather than lost.
public final class QuotaCounter: Sendable {
    public let planId: String
    public let keyId: String
    /// The quota to enforce, or nil for a plan without one (requests are then only metered).
    public let quota: QuotaPeriod?

    private static let countBits: UInt64 = 40
    private static let countMask: UInt64 = (1 << 40) - 1
    /// Ordinals are shifted so that any date from 1970 on packs as a positive number.
    private static let ordinalBias: Int64 = 16

    private let periodWord: ManagedAtomic<UInt64>
    private let evenDay = ManagedAtomic<UInt64>(0)
    private let oddDay = ManagedAtomic<UInt64>(0)

    /// `usedInCurrentPeriod` is what the store summed from its rows for the period containing `nowEpochSeconds`.
    public init(planId: String, keyId: String, quota: QuotaPeriod?, usedInCurrentPeriod: Int = 0, nowEpochSeconds: Int64) {
        self.planId = planId
        self.keyId = keyId
        self.quota = quota
        let ordinal = quota.map { Self.packedOrdinal($0, nowEpochSeconds) } ?? 0
        periodWord = ManagedAtomic(ordinal << Self.countBits | UInt64(clamping: max(0, usedInCurrentPeriod)) & Self.countMask)
    }

    /// Counts one request if the quota allows it; otherwise refuses until the period ends (the gateway answers 429 `{"message":"Limit Exceeded"}`).
    public func consume(nowEpochSeconds: Int64) -> ThrottleVerdict {
        if let quota {
            let ordinal = Self.packedOrdinal(quota, nowEpochSeconds)
            let limit = UInt64(quota.limit)
            var current = periodWord.load(ordering: .relaxed)
            while true {
                let storedOrdinal = current >> Self.countBits
                // A later period starts from zero; an earlier one (the clock stepped back) keeps counting
                // against the period already reached rather than reopening an old one.
                let used = ordinal > storedOrdinal ? 0 : current & Self.countMask
                if used >= limit {
                    let wait = quota.periodEnd(epochSeconds: nowEpochSeconds) - nowEpochSeconds
                    return .limited(retryAfterSeconds: wait < 1 ? 1 : Int(wait))
                }
                let desired = max(ordinal, storedOrdinal) << Self.countBits | (used + 1)
                let (exchanged, original) = periodWord.weakCompareExchange(
                    expected: current, desired: desired, ordering: .relaxed)
                if exchanged { break }
                current = original
            }
        }
        meter(nowEpochSeconds: nowEpochSeconds)
        return .admitted
    }

    /// Requests counted in the period containing `nowEpochSeconds` (0 without a quota).
    public func used(nowEpochSeconds: Int64) -> Int {
        guard let quota else { return 0 }
        let current = periodWord.load(ordering: .relaxed)
        guard current >> Self.countBits >= Self.packedOrdinal(quota, nowEpochSeconds) else { return 0 }
        return Int(current & Self.countMask)
    }

    private func meter(nowEpochSeconds: Int64) {
        let day = UInt64(max(0, Civil.floorDiv(nowEpochSeconds, 86_400)))
        let word = day & 1 == 0 ? evenDay : oddDay
        var current = word.load(ordering: .relaxed)
        while true {
            let desired: UInt64
            if current >> Self.countBits == day || current & Self.countMask == 0 {
                desired = day << Self.countBits | ((current & Self.countMask) + 1)
            } else {
                desired = current + 1
            }
            let (exchanged, original) = word.weakCompareExchange(expected: current, desired: desired, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    /// Takes the requests metered since the last drain, per day (at most two days), for the store to write.
    func drain(into deltas: inout [(day: Int64, count: Int)]) {
        for word in [evenDay, oddDay] {
            var current = word.load(ordering: .relaxed)
            while current & Self.countMask != 0 {
                let day = current >> Self.countBits
                let (exchanged, original) = word.compareExchange(
                    expected: current, desired: day << Self.countBits, ordering: .relaxed)
                if exchanged {
                    deltas.append((Int64(day), Int(current & Self.countMask)))
                    break
                }
                current = original
            }
        }
    }

    private static func packedOrdinal(_ quota: QuotaPeriod, _ epochSeconds: Int64) -> UInt64 {
        UInt64(max(0, quota.ordinal(epochSeconds: max(0, epochSeconds)) + ordinalBias))
    }
}
