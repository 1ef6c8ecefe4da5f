import Synchronization

/// The stage response cache, shared by all worker threads: sharded by key digest, each shard
/// behind its own lock and holding an equal part of the byte budget, so workers contend only
/// when they touch the same shard. Entries expire at the instant their response says; eviction
/// is S3-FIFO (see `ShardState`). Concurrent misses for one key are coalesced: one filler goes
/// upstream, the others wait for its `complete`.
///
/// Time is always passed in (`nowNs`, the responses' `storedAtNs`/`expiresAtNs`, one monotonic
/// clock in nanoseconds), so the cache reads no clock and tests drive it with a fake one.
public final class ResponseCache: Sendable {
    private final class Shard: Sendable {
        let state: Mutex<ShardState>
        let counters = ShardCounters()

        init(budget: Int) {
            state = Mutex(ShardState(budget: budget))
        }
    }

    public let capacityBytes: Int
    public let shardCount: Int
    /// The largest entry stored: the configured maximum, or a shard's budget if smaller.
    public let maxEntryBytes: Int
    /// A fill older than this is presumed lost: the next lookup takes it over. Longer than the
    /// integration timeout (29 s by default), so a slow but live fill is never duplicated.
    public let fillTimeoutNs: UInt64
    private let shards: [Shard]
    private let shardMask: Int

    /// - Parameters:
    ///   - shardCount: rounded up to a power of two (default 16), so a shard is picked with a mask.
    ///   - maxEntryBytes: larger responses are not stored (they pass through uncached).
    public init(
        capacityBytes: Int, shardCount: Int = 16, maxEntryBytes: Int = .max,
        fillTimeoutNs: UInt64 = 30_000_000_000
    ) {
        var count = 1
        while count < min(max(shardCount, 1), 1 << 16) { count <<= 1 }
        self.capacityBytes = max(capacityBytes, 0)
        self.shardCount = count
        let shardBudget = self.capacityBytes / count
        self.maxEntryBytes = min(max(maxEntryBytes, 0), shardBudget)
        self.fillTimeoutNs = fillTimeoutNs
        shards = (0..<count).map { _ in Shard(budget: shardBudget) }
        shardMask = count - 1
    }

    /// A hit, or the duty to fill, or registration as a waiter (see `CacheLookup`). An expired
    /// entry is removed here and the lookup proceeds as a miss.
    public func lookup(_ key: CacheKey, nowNs: UInt64, waiter: CacheWaiter) -> CacheLookup {
        let shard = shard(for: key)
        return shard.state.withLock { state in
            let outcome = state.lookup(key, nowNs: nowNs, waiter: waiter, fillTimeoutNs: fillTimeoutNs)
            if case .hit = outcome {
                shard.counters.store(state.hits, .hits)
            } else {
                shard.counters.publish(state)
            }
            return outcome
        }
    }

    /// Ends the fill for `key` with a cacheable response: stores it (unless it is too large,
    /// already expired, or the fill began before a flush) and returns the waiters, to whom the
    /// caller now delivers `response`. With no fill in flight (a lost filler completing after
    /// a takeover) the response is still stored, replacing any older one.
    public func complete(_ key: CacheKey, with response: CachedResponse) -> [CacheWaiter] {
        let shard = shard(for: key)
        return shard.state.withLock { state in
            let waiters = state.complete(key, with: response, maxEntryBytes: maxEntryBytes)
            shard.counters.publish(state)
            return waiters
        }
    }

    /// Ends the fill for `key` without storing anything (the integration failed, or the response
    /// may not be cached): the returned waiters must each go upstream themselves.
    public func abandon(_ key: CacheKey) -> [CacheWaiter] {
        let shard = shard(for: key)
        return shard.state.withLock { state in
            let waiters = state.abandon(key)
            shard.counters.publish(state)
            return waiters
        }
    }

    /// Empties the cache (FlushStageCache). Fills in flight still answer their waiters; their
    /// responses, fetched before the flush, are not stored.
    public func flush() {
        for shard in shards {
            shard.state.withLock { state in
                state.flush()
                shard.counters.publish(state)
            }
        }
    }

    /// The counters summed over shards; safe from any thread, takes no lock.
    public var statistics: CacheStatistics {
        var total = CacheStatistics()
        for shard in shards {
            let c = shard.counters
            total.hits += c.load(.hits)
            total.misses += c.load(.misses)
            total.coalescedWaits += c.load(.coalescedWaits)
            total.evictions += c.load(.evictions)
            total.bytes += c.load(.bytes)
            total.entries += c.load(.entries)
            total.fillsInFlight += c.load(.fillsInFlight)
        }
        return total
    }

    /// The high digest bits pick the shard; the dictionaries inside rehash the digest anyway.
    @inline(__always)
    private func shard(for key: CacheKey) -> Shard {
        shards[Int(truncatingIfNeeded: key.digest >> 48) & shardMask]
    }
}
