#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a Lambda authorizer result is cached under: the authorizer and its identity
/// source values, each length-prefixed so `["a,b"]` and `["a", "b"]` never collide.
public struct AuthorizerCacheKey: Sendable, Hashable {
    public let authorizerId: Int
    private let bytes: [UInt8]

    public init(authorizerId: Int, identityValues: [String]) {
        self.authorizerId = authorizerId
        var bytes: [UInt8] = []
        for value in identityValues {
            let utf8 = value.utf8
            var count = UInt32(truncatingIfNeeded: utf8.count)
            for _ in 0..<4 {
                bytes.append(UInt8(truncatingIfNeeded: count))
                count >>= 8
            }
            bytes.append(contentsOf: utf8)
        }
        self.bytes = bytes
    }
}

/// Lambda authorizer results shared by every worker thread, so one identity is
/// authorized once per TTL rather than once per worker.
///
/// API Gateway caches the function's *response* under the identity source values for
/// `authorizerResultTtlInSeconds` (default 300, at most 3600, 0 turns caching off —
/// "Configure a REST API Lambda authorizer", `CreateAuthorizer`); a cached policy is
/// evaluated again for each request's method ARN, which is why a policy naming only the
/// first request's ARN refuses later requests to other paths ("Why is my API Gateway
/// proxy resource with a Lambda authorizer that has caching activated returning HTTP 403
/// errors?", AWS knowledge center). So entries hold the parsed `LambdaAuthorizerResponse`,
/// not a decision. Refusals the function signals by failing (401, 500) are not cached.
///
/// Sharded by key hash, one mutex per shard; each shard holds at most
/// `capacity / shards` entries and, when full, drops expired entries, then the one that
/// expires soonest. The clock is the caller's (`nowSeconds`), so tests need no sleeps.
public final class AuthorizerResultCache: @unchecked Sendable {
    // @unchecked: every shard's table is only touched with its mutex held.

    public static let defaultTTLSeconds = 300
    public static let maxTTLSeconds = 3600

    private struct Entry {
        let response: LambdaAuthorizerResponse
        let expiresAt: Int64
    }

    private final class Shard {
        let mutex: UnsafeMutablePointer<pthread_mutex_t>
        var entries: [AuthorizerCacheKey: Entry] = [:]

        init() {
            mutex = .allocate(capacity: 1)
            pthread_mutex_init(mutex, nil)
        }

        deinit {
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
        }

        func locked<T>(_ body: (Shard) -> T) -> T {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return body(self)
        }
    }

    private let shards: [Shard]
    private let perShard: Int

    public init(capacity: Int = 10_000, shards: Int = 16) {
        let count = max(1, shards)
        self.shards = (0..<count).map { _ in Shard() }
        perShard = max(1, capacity / count)
    }

    private func shard(_ key: AuthorizerCacheKey) -> Shard {
        shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
    }

    /// The response cached for this key, if it has not expired.
    public func lookup(_ key: AuthorizerCacheKey, nowSeconds: Int64) -> LambdaAuthorizerResponse? {
        shard(key).locked { shard in
            guard let entry = shard.entries[key] else { return nil }
            if entry.expiresAt > nowSeconds { return entry.response }
            shard.entries[key] = nil
            return nil
        }
    }

    /// Caches a response for `ttlSeconds` (clamped to 3600); a TTL of 0 or less caches nothing.
    public func insert(_ key: AuthorizerCacheKey, response: LambdaAuthorizerResponse, ttlSeconds: Int,
                       nowSeconds: Int64) {
        guard ttlSeconds > 0 else { return }
        let entry = Entry(response: response,
                          expiresAt: nowSeconds + Int64(min(ttlSeconds, Self.maxTTLSeconds)))
        let limit = perShard
        shard(key).locked { shard in
            if shard.entries[key] == nil, shard.entries.count >= limit {
                shard.entries = shard.entries.filter { $0.value.expiresAt > nowSeconds }
                if shard.entries.count >= limit,
                   let soonest = shard.entries.min(by: { $0.value.expiresAt < $1.value.expiresAt })?.key {
                    shard.entries[soonest] = nil
                }
            }
            shard.entries[key] = entry
        }
    }

    /// Drops every entry (a configuration reload, or an operator's flush).
    public func removeAll() {
        for shard in shards {
            shard.locked { $0.entries.removeAll() }
        }
    }

    /// Entries held, expired ones included until they are next touched.
    public var count: Int {
        shards.reduce(0) { total, shard in total + shard.locked { $0.entries.count } }
    }
}
