/// A reading of the cache's counters, summed over shards (each shard's values are exact; the
/// sum is not one instant's snapshot, which metrics do not need).
///
/// `hits` and `misses` follow CloudWatch's CacheHitCount and CacheMissCount: a hit is a request
/// answered from a stored entry; every other lookup is a miss — the filler, and the waiters too,
/// because their answer comes fresh from the integration, not from the cache (the `x-cache` header
/// says Miss for them). So hits + misses = lookups. `coalescedWaits` is the part of the misses that
/// did not go upstream themselves: the upstream requests coalescing saved.
public struct CacheStatistics: Sendable, Equatable {
    public var hits = 0
    public var misses = 0
    public var coalescedWaits = 0
    /// Live entries removed to make room; expired entries dropped are not evictions.
    public var evictions = 0
    public var bytes = 0
    public var entries = 0
    public var fillsInFlight = 0

    public init() {}
}
