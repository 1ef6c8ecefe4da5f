import Atomics

/// Per-client-address throttling (a Turnpike extension): one token bucket per client IP in a fixed, lock-free table.
///
/// The table is `capacity` slots of two words, a key tag and a GCRA theoretical arrival time (TAT),
/// grouped in pairs: an address hashes (seeded, see `ByteHash`) to one pair and may use either slot of it.
/// - An address that owns a slot of its pair (its tag is there) is throttled on that slot's TAT.
/// - Otherwise it takes over a slot that is empty or whose bucket has fully refilled (TAT ≤ now). Taking
///   over is one compare-and-swap of the tag; the old TAT stays, because a refilled bucket's TAT already
///   means "full" for the new owner too. So an address loses nothing when evicted: its bucket was full,
///   and the fresh slot it gets next is full as well.
/// - When both slots of the pair belong to other addresses that are still draining their buckets, the
///   address shares one of them (chosen by its hash, so always the same one): requests from both count
///   against one bucket. That needs more than two clients active within one refill time on the same
///   pair; with the default 65,536 slots it starts to matter past tens of thousands of concurrently
///   throttled clients. Sharing errs on the side of refusing: no address is ever let through beyond
///   its own limit.
/// - Two addresses with the same 64-bit hash share a bucket for good; with a secret seed that is a
///   2^-64 accident per pair, not something a client can arrange.
/// - A takeover racing with the evicted address's own in-flight request can move one token between
///   the two; there is no lock to prevent it, and one token is the whole error.
public final class ClientBuckets: @unchecked Sendable {
    private typealias Word = UInt64.AtomicRepresentation

    /// How many slots (buckets) the table has.
    public let capacity: Int
    private let rule: GCRARule
    private let pairMask: Int
    private let seed: UInt64
    /// `capacity` × 2 words: slot s's tag at 2s, its TAT at 2s + 1.
    private let words: UnsafeMutablePointer<Word>

    /// `capacity` must be a power of two ≥ 2; `seed` is for tests that need a repeatable layout.
    public init(throttle: ThrottleSpec, capacity: Int = 65_536, seed: UInt64? = nil) throws(TrafficConfigError) {
        guard capacity >= 2, capacity & (capacity - 1) == 0, capacity <= 1 << 30 else {
            throw .invalidCapacity(capacity)
        }
        self.rule = try GCRARule(throttle)
        self.capacity = capacity
        self.pairMask = capacity / 2 - 1
        self.seed = seed ?? ByteHash.randomSeed()
        words = .allocate(capacity: capacity * 2)
        for index in 0 ..< capacity * 2 {
            (words + index).initialize(to: Word(0))
        }
    }

    deinit {
        words.deinitialize(count: capacity * 2)
        words.deallocate()
    }

    /// Takes one token from the bucket of the client whose address bytes are `key`.
    public func admit(key: UnsafeRawBufferPointer, nowNs: UInt64) -> ThrottleVerdict {
        if rule.blocksAll { return .limited(retryAfterSeconds: GCRARule.blockedRetryAfterSeconds) }
        let tat = UnsafeAtomic<UInt64>(at: words + 2 * slot(for: key, nowNs: nowNs, claim: true) + 1)
        var current = tat.load(ordering: .relaxed)
        while true {
            let (fits, value) = rule.step(tat: current, nowNs: nowNs)
            guard fits else { return .limited(retryAfterSeconds: GCRARule.retryAfterSeconds(waitNs: value)) }
            let (exchanged, original) = tat.weakCompareExchange(expected: current, desired: value, ordering: .relaxed)
            if exchanged { return .admitted }
            current = original
        }
    }

    /// Gives back the token `admit` took for `key` when a later check refused the request.
    public func refund(key: UnsafeRawBufferPointer, nowNs: UInt64) {
        if rule.blocksAll { return }
        let tat = UnsafeAtomic<UInt64>(at: words + 2 * slot(for: key, nowNs: nowNs, claim: false) + 1)
        var current = tat.load(ordering: .relaxed)
        while true {
            let (exchanged, original) = tat.weakCompareExchange(
                expected: current, desired: rule.refunded(tat: current), ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    /// The slot that throttles `key`: its own, else (when `claim`) an empty or refilled one taken over, else the shared fallback.
    @inline(__always)
    private func slot(for key: UnsafeRawBufferPointer, nowNs: UInt64, claim: Bool) -> Int {
        let hash = ByteHash.hash(key, seed: seed)
        let tag = hash | 1 // 0 marks an empty slot
        let first = (Int(truncatingIfNeeded: hash >> 32) & pairMask) * 2
        let tag0 = UnsafeAtomic<UInt64>(at: words + 2 * first)
        let tag1 = UnsafeAtomic<UInt64>(at: words + 2 * (first + 1))
        if tag0.load(ordering: .relaxed) == tag { return first }
        if tag1.load(ordering: .relaxed) == tag { return first + 1 }
        if claim {
            for candidate in first ... first + 1 {
                let owner = UnsafeAtomic<UInt64>(at: words + 2 * candidate)
                let held = owner.load(ordering: .relaxed)
                let tat = UnsafeAtomic<UInt64>(at: words + 2 * candidate + 1).load(ordering: .relaxed)
                guard held == 0 || tat <= nowNs else { continue }
                let (exchanged, original) = owner.compareExchange(expected: held, desired: tag, ordering: .relaxed)
                if exchanged || original == tag { return candidate }
            }
        }
        return first + Int(truncatingIfNeeded: (hash >> 1) & 1)
    }
}
