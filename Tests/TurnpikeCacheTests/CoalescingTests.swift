import Synchronization
import TurnpikeCache
import XCTest

final class CoalescingTests: XCTestCase {
    private enum Outcome { case hit, fill, wait }

    func testConcurrentMissesFromManyThreadsMakeExactlyOneFill() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(42)
        let threads = 32
        let outcomes = Mutex<[(CacheWaiter, Outcome)]>([])
        runOnThreads(threads) { index in
            let waiter = CacheWaiter(workerIndex: index, token: UInt64(1_000 + index))
            let outcome: Outcome
            switch cache.lookup(key, nowNs: secondNs, waiter: waiter) {
            case .hit: outcome = .hit
            case .fill: outcome = .fill
            case .wait: outcome = .wait
            }
            outcomes.withLock { $0.append((waiter, outcome)) }
        }
        let all = outcomes.withLock { $0 }
        XCTAssertEqual(all.count, threads)
        XCTAssertEqual(all.filter { $0.1 == .fill }.count, 1)
        XCTAssertEqual(all.filter { $0.1 == .wait }.count, threads - 1)
        XCTAssertEqual(cache.statistics.fillsInFlight, 1)

        let waiting = Set(all.filter { $0.1 == .wait }.map(\.0))
        let answered = cache.complete(key, with: response(for: key, storedAtNs: secondNs))
        XCTAssertEqual(answered.count, threads - 1)
        XCTAssertEqual(Set(answered), waiting)
        XCTAssertEqual(cache.statistics.fillsInFlight, 0)
        guard case .hit = cache.lookup(key, nowNs: 2 * secondNs, waiter: anyWaiter) else { return XCTFail("expected hit") }
    }

    func testWaitersAreReturnedInArrivalOrder() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(1)
        _ = cache.lookup(key, nowNs: 0, waiter: anyWaiter)
        let waiters = (1...5).map { CacheWaiter(workerIndex: $0 % 2, token: UInt64($0)) }
        for waiter in waiters {
            guard case .wait = cache.lookup(key, nowNs: 1, waiter: waiter) else { return XCTFail("expected wait") }
        }
        XCTAssertEqual(cache.complete(key, with: response(for: key)), waiters)
    }

    func testCompleteWithNoWaitersReturnsNone() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(1)
        _ = cache.lookup(key, nowNs: 0, waiter: anyWaiter)
        XCTAssertEqual(cache.complete(key, with: response(for: key)), [])
    }

    func testAbandonReturnsTheWaitersAndTheNextLookupFillsAgain() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(1)
        let first = CacheWaiter(workerIndex: 1, token: 1)
        let second = CacheWaiter(workerIndex: 2, token: 2)
        _ = cache.lookup(key, nowNs: 0, waiter: anyWaiter)
        _ = cache.lookup(key, nowNs: 1, waiter: first)
        _ = cache.lookup(key, nowNs: 2, waiter: second)
        XCTAssertEqual(cache.abandon(key), [first, second])
        XCTAssertEqual(cache.statistics.fillsInFlight, 0)
        XCTAssertEqual(cache.statistics.entries, 0)
        XCTAssertEqual(cache.abandon(key), [], "nothing left to abandon")
        guard case .fill = cache.lookup(key, nowNs: 3, waiter: first) else { return XCTFail("expected a new fill") }
    }

    func testFillOlderThanTheTimeoutIsTakenOverByTheNextLookup() {
        let cache = ResponseCache(capacityBytes: 1 << 20, fillTimeoutNs: 30 * secondNs)
        let key = itemKey(1)
        let early = CacheWaiter(workerIndex: 1, token: 1)
        let late = CacheWaiter(workerIndex: 2, token: 2)
        let taker = CacheWaiter(workerIndex: 3, token: 3)
        guard case .fill = cache.lookup(key, nowNs: 0, waiter: anyWaiter) else { return XCTFail("expected fill") }
        guard case .wait = cache.lookup(key, nowNs: 10 * secondNs, waiter: early) else { return XCTFail("expected wait") }
        guard case .wait = cache.lookup(key, nowNs: 30 * secondNs - 1, waiter: late) else {
            return XCTFail("a fill just under the timeout is still live")
        }
        guard case .fill = cache.lookup(key, nowNs: 30 * secondNs, waiter: taker) else {
            return XCTFail("a fill as old as the timeout is taken over")
        }
        // The takeover restarts the clock: the new fill is live for another timeout.
        guard case .wait = cache.lookup(key, nowNs: 59 * secondNs, waiter: anyWaiter) else { return XCTFail("expected wait") }
        XCTAssertEqual(cache.statistics.fillsInFlight, 1)
        let answered = cache.complete(key, with: response(for: key, storedAtNs: 60 * secondNs))
        XCTAssertEqual(answered, [early, late, anyWaiter], "waiters of the lost fill are answered by the new one")
    }

    func testLateCompleteFromTheLostFillerIsHarmless() {
        let cache = ResponseCache(capacityBytes: 1 << 20, fillTimeoutNs: 30 * secondNs)
        let key = itemKey(1)
        _ = cache.lookup(key, nowNs: 0, waiter: anyWaiter)
        _ = cache.lookup(key, nowNs: 31 * secondNs, waiter: anyWaiter)
        _ = cache.complete(key, with: response(for: key, storedAtNs: 32 * secondNs))
        let bytesAfterOne = cache.statistics.bytes
        XCTAssertEqual(cache.complete(key, with: response(for: key, bodyBytes: 500, storedAtNs: 33 * secondNs)), [])
        let stats = cache.statistics
        XCTAssertEqual(stats.entries, 1)
        XCTAssertEqual(stats.bytes, bytesAfterOne + 400, "the newer response replaces the older one")
        guard case .hit(let hit) = cache.lookup(key, nowNs: 34 * secondNs, waiter: anyWaiter) else { return XCTFail("expected hit") }
        XCTAssertEqual(hit.body.count, 500)
    }

    func testLookupWithAnEarlierClockReadingThanTheFillWaits() {
        // Workers read the clock before taking the shard's lock, so readings arrive slightly out of order.
        let cache = ResponseCache(capacityBytes: 1 << 20)
        let key = itemKey(1)
        _ = cache.lookup(key, nowNs: 100 * secondNs, waiter: anyWaiter)
        guard case .wait = cache.lookup(key, nowNs: 100 * secondNs - 5, waiter: anyWaiter) else {
            return XCTFail("expected wait")
        }
    }

    func testDifferentKeysFillIndependently() {
        let cache = ResponseCache(capacityBytes: 1 << 20)
        guard case .fill = cache.lookup(itemKey(1), nowNs: 0, waiter: anyWaiter),
              case .fill = cache.lookup(itemKey(2), nowNs: 0, waiter: anyWaiter)
        else { return XCTFail("each key has its own filler") }
        XCTAssertEqual(cache.statistics.fillsInFlight, 2)
    }
}
