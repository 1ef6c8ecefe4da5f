import TurnpikeCache
import XCTest

final class ResponseCacheTests: XCTestCase {
    /// One shard, so a test controls exactly which entries compete for the budget.
    private func singleShardCache(entries: Int, bodyBytes: Int = 100) -> ResponseCache {
        let entryBytes = response(for: itemKey(0), bodyBytes: bodyBytes).byteSize
        return ResponseCache(capacityBytes: entries * entryBytes, shardCount: 1)
    }

    // MARK: hits and TTL

    func testCompletedFillIsServedAsHitWithTheStoredBytes() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(1)
        guard case .fill = cache.lookup(key, nowNs: 0, waiter: anyWaiter) else { return XCTFail("first lookup must fill") }
        let stored = CachedResponse(
            key: key, status: 203, headerBlock: Array("etag: \"v1\"\r\n".utf8), body: Array("{\"id\":1}".utf8),
            storedAtNs: 0, expiresAtNs: 300 * secondNs)
        XCTAssertEqual(cache.complete(key, with: stored), [])
        guard case .hit(let hit) = cache.lookup(key, nowNs: secondNs, waiter: anyWaiter) else { return XCTFail("expected hit") }
        XCTAssertTrue(hit === stored)
        XCTAssertEqual(hit.status, 203)
        XCTAssertEqual(hit.headerBlock, Array("etag: \"v1\"\r\n".utf8))
        XCTAssertEqual(hit.body, Array("{\"id\":1}".utf8))
        XCTAssertEqual(hit.byteSize, key.bytes.count + 12 + 8 + CachedResponse.entryOverheadBytes)
    }

    func testEntryHitsUntilItsExpiryInstantThenMisses() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(1)
        let start = 1_000 * secondNs
        _ = cache.lookup(key, nowNs: start, waiter: anyWaiter)
        _ = cache.complete(key, with: response(for: key, storedAtNs: start, ttlNs: 300 * secondNs))
        guard case .hit = cache.lookup(key, nowNs: start + 300 * secondNs - 1, waiter: anyWaiter) else {
            return XCTFail("one nanosecond before expiry must hit")
        }
        guard case .fill = cache.lookup(key, nowNs: start + 300 * secondNs, waiter: anyWaiter) else {
            return XCTFail("at expiry the lookup must become a fill")
        }
    }

    func testExpiredEntryIsRemovedByTheLookupThatFindsIt() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(1)
        read(cache, key, at: 0)
        XCTAssertEqual(cache.statistics.entries, 1)
        XCTAssertGreaterThan(cache.statistics.bytes, 0)
        _ = cache.lookup(key, nowNs: 301 * secondNs, waiter: anyWaiter)
        XCTAssertEqual(cache.statistics.entries, 0)
        XCTAssertEqual(cache.statistics.bytes, 0)
        XCTAssertEqual(cache.statistics.fillsInFlight, 1)
    }

    func testRefilledEntryAfterExpiryHitsAgain() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(1)
        XCTAssertFalse(read(cache, key, at: 0))
        XCTAssertFalse(read(cache, key, at: 400 * secondNs))
        XCTAssertTrue(read(cache, key, at: 401 * secondNs))
        XCTAssertEqual(cache.statistics.entries, 1)
    }

    func testResponseAlreadyExpiredWhenCompletedIsNotStoredButWaitersAreReturned() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(1)
        let waiter = CacheWaiter(workerIndex: 1, token: 9)
        _ = cache.lookup(key, nowNs: 0, waiter: anyWaiter)
        _ = cache.lookup(key, nowNs: 0, waiter: waiter)
        XCTAssertEqual(cache.complete(key, with: response(for: key, storedAtNs: 5, ttlNs: 0)), [waiter])
        XCTAssertEqual(cache.statistics.entries, 0)
        guard case .fill = cache.lookup(key, nowNs: 6, waiter: anyWaiter) else { return XCTFail("nothing was stored") }
    }

    // MARK: byte budget and eviction

    func testBytesNeverExceedTheBudgetWhileManyKeysAreFilled() {
        let cache = ResponseCache(capacityBytes: 50_000, shardCount: 4)
        var generator = SplitMix64(state: 7)
        for i in 0..<5_000 {
            let key = itemKey(Int(generator.next() % 2_000))
            if case .fill = cache.lookup(key, nowNs: UInt64(i), waiter: anyWaiter) {
                let bodyBytes = Int(generator.next() % 3_000)
                _ = cache.complete(key, with: response(for: key, bodyBytes: bodyBytes, storedAtNs: UInt64(i)))
            }
            XCTAssertLessThanOrEqual(cache.statistics.bytes, 50_000)
        }
        XCTAssertGreaterThan(cache.statistics.evictions, 0)
        XCTAssertGreaterThan(cache.statistics.entries, 0)
    }

    func testEvictionsCountEntriesRemovedForSpace() {
        let cache = singleShardCache(entries: 10)
        for id in 0..<25 { read(cache, itemKey(id)) }
        let stats = cache.statistics
        XCTAssertEqual(stats.entries, 10)
        XCTAssertEqual(stats.evictions, 15)
        XCTAssertEqual(stats.bytes, 10 * response(for: itemKey(0)).byteSize)
    }

    func testExpiredEntriesMakeRoomWithoutCountingAsEvictions() {
        let cache = singleShardCache(entries: 10)
        for id in 0..<10 { read(cache, itemKey(id), at: 0) }
        for id in 10..<20 { read(cache, itemKey(id), at: 400 * secondNs) }
        XCTAssertEqual(cache.statistics.entries, 10)
        XCTAssertEqual(cache.statistics.evictions, 0)
    }

    func testHotEntrySurvivesAOnePassScanOfColdKeys() {
        let cache = singleShardCache(entries: 100)
        let hot = itemKey(0)
        read(cache, hot)
        XCTAssertTrue(read(cache, hot))
        for id in 1...1_000 { read(cache, itemKey(id)) }
        XCTAssertTrue(read(cache, hot), "a key read twice must outlive a scan of ten times the cache's size")
    }

    func testHotSetSurvivesRepeatedScansWhileReadBetweenThem() {
        let cache = singleShardCache(entries: 100)
        let hot = (0..<50).map { itemKey($0) }
        for key in hot { read(cache, key); read(cache, key) }
        var next = 1_000
        for _ in 0..<5 {
            for _ in 0..<500 { read(cache, itemKey(next)); next += 1 }
            for key in hot { XCTAssertTrue(read(cache, key)) }
        }
    }

    func testOneHitEntryIsEvictedByTheSameScan() {
        // The same scan with no reread: the entry is an ordinary one-hit key and is evicted,
        // which shows the survival above is the policy's doing, not spare room.
        let cache = singleShardCache(entries: 100)
        let once = itemKey(0)
        read(cache, once)
        for id in 1...1_000 { read(cache, itemKey(id)) }
        XCTAssertFalse(read(cache, once))
    }

    func testKeyEvictedFromSmallQueueAndSeenAgainIsKeptLonger() {
        // A returning key (ghost hit) enters the main queue, so the next scan does not flush it.
        let cache = singleShardCache(entries: 100)
        let returning = itemKey(0)
        read(cache, returning)
        for id in 1...150 { read(cache, itemKey(id)) }
        XCTAssertFalse(read(cache, returning), "evicted once as a one-hit key")
        for id in 151...350 { read(cache, itemKey(id)) }
        XCTAssertTrue(read(cache, returning), "back from the ghost queue into main")
    }

    // MARK: oversize entries

    func testEntryLargerThanMaxEntryBytesIsNotStored() {
        let cache = ResponseCache(capacityBytes: 1 << 20, maxEntryBytes: 1_000)
        let key = itemKey(1)
        let waiter = CacheWaiter(workerIndex: 2, token: 1)
        _ = cache.lookup(key, nowNs: 0, waiter: anyWaiter)
        _ = cache.lookup(key, nowNs: 0, waiter: waiter)
        XCTAssertEqual(cache.complete(key, with: response(for: key, bodyBytes: 1_000)), [waiter])
        XCTAssertEqual(cache.statistics.entries, 0)
        XCTAssertEqual(cache.statistics.bytes, 0)
        XCTAssertFalse(read(cache, itemKey(2), bodyBytes: 1_000))
        XCTAssertFalse(read(cache, itemKey(2), bodyBytes: 500))
        XCTAssertTrue(read(cache, itemKey(2)))
    }

    func testEntryLargerThanAShardsBudgetIsNotStoredAndEvictsNothing() {
        let cache = ResponseCache(capacityBytes: 16_000, shardCount: 16)
        XCTAssertEqual(cache.maxEntryBytes, 1_000)
        read(cache, itemKey(1))
        XCTAssertEqual(cache.statistics.entries, 1)
        read(cache, itemKey(2), bodyBytes: 2_000)
        XCTAssertEqual(cache.statistics.entries, 1)
        XCTAssertEqual(cache.statistics.evictions, 0)
    }

    func testShardCountIsRoundedUpToAPowerOfTwo() {
        XCTAssertEqual(ResponseCache(capacityBytes: 1 << 20, shardCount: 12).shardCount, 16)
        XCTAssertEqual(ResponseCache(capacityBytes: 1 << 20, shardCount: 0).shardCount, 1)
        XCTAssertEqual(ResponseCache(capacityBytes: 1 << 20).shardCount, 16)
    }

    // MARK: flush

    func testFlushEmptiesTheCacheAndKeepsTheCounters() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        for id in 0..<20 { read(cache, itemKey(id)) }
        read(cache, itemKey(3))
        cache.flush()
        let stats = cache.statistics
        XCTAssertEqual(stats.entries, 0)
        XCTAssertEqual(stats.bytes, 0)
        XCTAssertEqual(stats.hits, 1)
        XCTAssertEqual(stats.misses, 20)
        XCTAssertFalse(read(cache, itemKey(3)))
        XCTAssertTrue(read(cache, itemKey(3)))
    }

    func testFillInFlightAcrossAFlushAnswersItsWaitersButIsNotStored() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(1)
        let waiter = CacheWaiter(workerIndex: 3, token: 4)
        _ = cache.lookup(key, nowNs: 0, waiter: anyWaiter)
        _ = cache.lookup(key, nowNs: 0, waiter: waiter)
        cache.flush()
        XCTAssertEqual(cache.statistics.fillsInFlight, 1)
        XCTAssertEqual(cache.complete(key, with: response(for: key)), [waiter])
        XCTAssertEqual(cache.statistics.entries, 0)
        XCTAssertEqual(cache.statistics.fillsInFlight, 0)
    }

    // MARK: counters

    func testHitsAndMissesFollowCacheHitCountAndCacheMissCount() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(1)
        _ = cache.lookup(key, nowNs: 0, waiter: anyWaiter)
        _ = cache.lookup(key, nowNs: 0, waiter: CacheWaiter(workerIndex: 1, token: 1))
        _ = cache.lookup(key, nowNs: 0, waiter: CacheWaiter(workerIndex: 1, token: 2))
        _ = cache.complete(key, with: response(for: key))
        _ = cache.lookup(key, nowNs: 1, waiter: anyWaiter)
        let stats = cache.statistics
        XCTAssertEqual(stats.hits, 1)
        XCTAssertEqual(stats.misses, 3, "the filler and both waiters were answered by the integration")
        XCTAssertEqual(stats.coalescedWaits, 2)
    }
}
