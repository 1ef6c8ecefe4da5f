/// The arithmetic of one token bucket as GCRA, shared by `GCRABucket` and `ClientBuckets` (which keep the state differently).
///
/// A bucket of `burst` tokens refilled at `rate` per second is the same thing as GCRA with an
/// emission interval T = 1/rate and a tolerance of burst × T: the state is one "theoretical arrival
/// time" (TAT), a request at `now` is admitted when max(TAT, now) + T − now ≤ burst × T, and admitting it
/// moves TAT to max(TAT, now) + T. TAT ≤ now is a full bucket; each T by which TAT runs ahead of now is
/// one token spent. Because the whole state is one word, one compare-and-swap admits a request exactly.
struct GCRARule: Sendable {
    /// Nanoseconds per token, 10^9 / rate. Rounded down when not whole (rate 3 → 333,333,333 ns), so the
    /// bucket never admits fewer than the configured rate; the surplus is below one request per
    /// (T in ns) × T, e.g. one per 3.3 × 10^8 s at rate 3.
    let intervalNs: UInt64
    /// burst × T: how far TAT may run ahead of now.
    let toleranceNs: UInt64
    /// A zero rate or a zero burst admits nothing (see `init`).
    let blocksAll: Bool

    /// What a zero-rate or zero-burst bucket answers: there is no refill time to report, and 1 s is the
    /// smallest `Retry-After` (a configuration reload is what changes the answer).
    static let blockedRetryAfterSeconds = 1

    /// Zero means "no requests": API Gateway's console disables a method when its rate and burst are set
    /// to 0 (aws/aws-cdk#10071: "rate and burst limits set to 0 ... allow 0 requests (disabled) as it
    /// happens using aws console"; terraform-aws-modules/terraform-aws-apigateway-v2#45 and
    /// hashicorp/terraform-provider-aws#14742: stage limits of 0 disable all traffic). With either one 0 the
    /// token bucket cannot admit anything lasting: a bucket of size 0 never holds the token a request
    /// needs, and one that never refills would serve its burst once per process and then nothing.
    init(_ throttle: ThrottleSpec) throws(TrafficConfigError) {
        let rate = throttle.rateLimit
        guard throttle.burstLimit >= 0, rate.isFinite, rate >= 0 else {
            throw .invalidThrottle(burstLimit: throttle.burstLimit, rateLimit: rate)
        }
        blocksAll = throttle.burstLimit == 0 || rate == 0
        if blocksAll {
            intervalNs = 1
            toleranceNs = 0
            return
        }
        let exact = 1_000_000_000 / rate
        // 1e9 / 0.1 comes out as 9999999999.999998: snap a quotient within 0.001 ns of a whole number to it
        // before rounding down, so rate 0.1 means exactly 10 s.
        let nearest = exact.rounded()
        let whole = abs(exact - nearest) < 1e-3 ? nearest : exact.rounded(.down)
        let maxInterval = Double(UInt64(1) << 62)
        intervalNs = whole < 1 ? 1 : (whole >= maxInterval ? UInt64(1) << 62 : UInt64(whole))
        let (tolerance, overflow) = UInt64(throttle.burstLimit).multipliedReportingOverflow(by: intervalNs)
        toleranceNs = overflow ? UInt64(1) << 63 : tolerance
    }

    /// The next TAT if a request at `nowNs` fits, else how long until it would.
    @inline(__always)
    func step(tat: UInt64, nowNs: UInt64) -> (admit: Bool, value: UInt64) {
        let start = tat > nowNs ? tat : nowNs
        let (sum, overflow) = start.addingReportingOverflow(intervalNs)
        let next = overflow ? UInt64.max : sum
        let ahead = next - nowNs
        if ahead <= toleranceNs { return (true, next) }
        return (false, ahead - toleranceNs)
    }

    /// TAT after giving back one admitted request's token.
    @inline(__always)
    func refunded(tat: UInt64) -> UInt64 {
        tat >= intervalNs ? tat - intervalNs : 0
    }

    /// Whole seconds, rounded up and at least 1, for a wait in nanoseconds.
    @inline(__always)
    static func retryAfterSeconds(waitNs: UInt64) -> Int {
        let seconds = waitNs / 1_000_000_000 + (waitNs % 1_000_000_000 == 0 ? 0 : 1)
        return seconds < 1 ? 1 : Int(clamping: seconds)
    }
}
