import Foundation
import TurnpikeCache

let secondNs: UInt64 = 1_000_000_000

/// `GET /items/{id}` keyed by the id path parameter, ids zero-padded so every key has one length.
let itemShape = CacheKeyShape(resourcePath: "/items/{id}", parameters: [CacheKeyParameter(.pathParameter, name: "id")])

func itemKey(_ id: Int, builder: inout CacheKeyBuilder) -> CacheKey {
    var digits = String(id)
    digits = String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    builder.begin(method: "GET", shape: itemShape)
    builder.appendValue(digits)
    return builder.finish()
}

func itemKey(_ id: Int) -> CacheKey {
    var builder = CacheKeyBuilder()
    return itemKey(id, builder: &builder)
}

func response(
    for key: CacheKey, bodyBytes: Int = 100, storedAtNs: UInt64 = 0, ttlNs: UInt64 = 300 * secondNs
) -> CachedResponse {
    CachedResponse(
        key: key, status: 200, headerBlock: Array("content-type: application/json\r\n".utf8),
        body: [UInt8](repeating: UInt8(ascii: "x"), count: bodyBytes),
        storedAtNs: storedAtNs, expiresAtNs: storedAtNs + ttlNs)
}

let anyWaiter = CacheWaiter(workerIndex: 0, token: 0)

/// Looks `key` up, fills it if told to, and says whether it was a hit.
@discardableResult
func read(_ cache: ResponseCache, _ key: CacheKey, at nowNs: UInt64 = 0, bodyBytes: Int = 100) -> Bool {
    switch cache.lookup(key, nowNs: nowNs, waiter: anyWaiter) {
    case .hit: return true
    case .fill:
        _ = cache.complete(key, with: response(for: key, bodyBytes: bodyBytes, storedAtNs: nowNs))
        return false
    case .wait: return false
    }
}

/// Runs `body(threadIndex)` on `count` real threads released together, and waits for all.
func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchGroup()
    let go = DispatchSemaphore(value: 0)
    for index in 0..<count {
        done.enter()
        let thread = Thread {
            go.wait()
            body(index)
            done.leave()
        }
        thread.start()
    }
    for _ in 0..<count { go.signal() }
    done.wait()
}

/// SplitMix64: a fixed seed gives the same sequence on every run and platform.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
