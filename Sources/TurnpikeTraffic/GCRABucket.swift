import Atomics

/// One token bucket (account, stage, route or usage-plan key) shared by every worker: GCRA on a single atomic word, no locks.
///
/// `admit` is exact across threads: every admission is one successful compare-and-swap that moves the
/// theoretical arrival time by one interval, so N threads hammering one bucket admit exactly what one
/// thread would (burst + rate × elapsed). Time is passed in, in nanoseconds from any monotonic origin,
/// so tests run on a simulated clock and the hot path reads the clock once per request.
public final class GCRABucket: Sendable {
    private let rule: GCRARule
    private let tat = ManagedAtomic<UInt64>(0)

    /// Throws for a negative burst or a negative or non-finite rate. A zero rate or burst builds a bucket that refuses every request (AWS's "0 disables").
    public init(_ throttle: ThrottleSpec) throws(TrafficConfigError) {
        rule = try GCRARule(throttle)
    }

    /// Nanoseconds between two tokens once the burst is spent.
    public var intervalNs: UInt64 { rule.intervalNs }

    /// Takes one token if the bucket has one at `nowNs`; otherwise says how many seconds until it will.
    @inline(__always)
    public func admit(nowNs: UInt64) -> ThrottleVerdict {
        if rule.blocksAll { return .limited(retryAfterSeconds: GCRARule.blockedRetryAfterSeconds) }
        var current = tat.load(ordering: .relaxed)
        while true {
            let (fits, value) = rule.step(tat: current, nowNs: nowNs)
            guard fits else { return .limited(retryAfterSeconds: GCRARule.retryAfterSeconds(waitNs: value)) }
            // Relaxed is enough: all read-modify-writes of one location are totally ordered, and the
            // word guards nothing but itself.
            let (exchanged, original) = tat.weakCompareExchange(expected: current, desired: value, ordering: .relaxed)
            if exchanged { return .admitted }
            current = original
        }
    }

    /// Gives back the token of a request this bucket admitted but another bucket then refused (see `ThrottleChain`).
    public func refund() {
        if rule.blocksAll { return }
        var current = tat.load(ordering: .relaxed)
        while true {
            let (exchanged, original) = tat.weakCompareExchange(
                expected: current, desired: rule.refunded(tat: current), ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}
