import Synchronization
import TurnpikeCache
import XCTest

final class ConcurrencyTests: XCTestCase {
    func testManyThreadsWithRandomKeysKeepTheBudgetAndConsistentCounters() {
        let capacity = 200_000
        let cache = ResponseCache(capacityBytes: capacity, shardCount: 8)
        let threads = 8
        let lookupsPerThread = 20_000
        let overBudget = Mutex(0)
        let lookups = Mutex(0)
        runOnThreads(threads) { index in
            var generator = SplitMix64(state: UInt64(index) &* 0x1234_5678 &+ 1)
            var builder = CacheKeyBuilder()
            var pending: [CacheKey] = []
            for i in 0..<lookupsPerThread {
                let nowNs = UInt64(i) * 1_000_000
                let key = itemKey(Int(generator.next() % 3_000), builder: &builder)
                let waiter = CacheWaiter(workerIndex: index, token: UInt64(i))
                if case .fill = cache.lookup(key, nowNs: nowNs, waiter: waiter) { pending.append(key) }
                // Fills end a little later, some failing, so other threads meet them in flight.
                if pending.count > 4 || i == lookupsPerThread - 1 {
                    for key in pending {
                        if generator.next() % 10 == 0 {
                            _ = cache.abandon(key)
                        } else {
                            let ttl = (1 + generator.next() % 2_000) * 1_000_000
                            let body = Int(generator.next() % 4_000)
                            _ = cache.complete(key, with: response(for: key, bodyBytes: body, storedAtNs: nowNs, ttlNs: ttl))
                        }
                    }
                    pending.removeAll(keepingCapacity: true)
                }
                if i % 64 == 0, cache.statistics.bytes > capacity { overBudget.withLock { $0 += 1 } }
            }
            lookups.withLock { $0 += lookupsPerThread }
        }
        let stats = cache.statistics
        XCTAssertEqual(overBudget.withLock { $0 }, 0)
        XCTAssertLessThanOrEqual(stats.bytes, capacity)
        XCTAssertEqual(stats.hits + stats.misses, lookups.withLock { $0 })
        XCTAssertLessThanOrEqual(stats.coalescedWaits, stats.misses)
        XCTAssertEqual(stats.fillsInFlight, 0, "every fill was completed or abandoned")
        XCTAssertGreaterThan(stats.hits, 0)
        XCTAssertGreaterThan(stats.entries, 0)
        XCTAssertGreaterThanOrEqual(stats.bytes, stats.entries * CachedResponse.entryOverheadBytes)

        cache.flush()
        XCTAssertEqual(cache.statistics.bytes, 0)
        XCTAssertEqual(cache.statistics.entries, 0)
    }
}
