/// The buckets one request must pass (route, usage-plan key, stage, account…), admitted all or none: a refusal refunds the buckets already passed.
///
/// Why all-or-none rather than "consume from every bucket that admitted": API Gateway does not say
/// which it does, but consuming on a refusal lets a client that is over its own limit keep draining
/// the shared stage and account buckets with requests that are refused anyway, so well-behaved
/// clients get 429s for someone else's excess. With a refund, a refused request costs no bucket a
/// token, and every bucket's count is exactly the requests that were actually let through.
/// Append the most specific bucket first (e.g. per-key before stage before account): most
/// refusals then happen before a shared bucket is touched, and the shared words see less contention.
/// Between a bucket's admit and its refund, another request may see that token taken and be refused
/// by it; a bucket never admits beyond its limit.
///
/// A value on the stack with inline room for `capacity` buckets, so building one per request allocates nothing.
public struct ThrottleChain {
    /// How many buckets one chain holds.
    public static let capacity = 6

    private var b0: GCRABucket?
    private var b1: GCRABucket?
    private var b2: GCRABucket?
    private var b3: GCRABucket?
    private var b4: GCRABucket?
    private var b5: GCRABucket?
    public private(set) var count = 0

    public init() {}

    /// Adds a bucket to check after those already added; `nil` (a level with no throttle configured) is skipped.
    public mutating func append(_ bucket: GCRABucket?) {
        guard let bucket else { return }
        precondition(count < Self.capacity, "ThrottleChain holds at most \(Self.capacity) buckets")
        switch count {
        case 0: b0 = bucket
        case 1: b1 = bucket
        case 2: b2 = bucket
        case 3: b3 = bucket
        case 4: b4 = bucket
        default: b5 = bucket
        }
        count += 1
    }

    /// Admits the request in every bucket, or in none: the first refusal refunds the buckets before it and is returned.
    public func admit(nowNs: UInt64) -> ThrottleVerdict {
        var index = 0
        while index < count {
            let verdict = bucket(at: index).admit(nowNs: nowNs)
            if case .limited = verdict {
                var passed = 0
                while passed < index {
                    bucket(at: passed).refund()
                    passed += 1
                }
                return verdict
            }
            index += 1
        }
        return .admitted
    }

    @inline(__always)
    private func bucket(at index: Int) -> GCRABucket {
        switch index {
        case 0: return b0.unsafelyUnwrapped
        case 1: return b1.unsafelyUnwrapped
        case 2: return b2.unsafelyUnwrapped
        case 3: return b3.unsafelyUnwrapped
        case 4: return b4.unsafelyUnwrapped
        default: return b5.unsafelyUnwrapped
        }
    }
}
