/// The identity of one cached response: the encoded method, resource path and cache key
/// parameter values, with their digest computed once so shard choice and comparisons are cheap.
public struct CacheKey: Hashable, Sendable {
    /// The unambiguous encoding `CacheKeyBuilder` produces; counted in an entry's byte size.
    public let bytes: [UInt8]
    /// Seeded per process: stable for the life of the gateway, never across restarts.
    public let digest: UInt64

    /// Keys normally come from `CacheKeyBuilder`; this takes an encoding as is.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
        self.digest = bytes.withUnsafeBytes { KeyHash.digest($0) }
    }

    public static func == (lhs: CacheKey, rhs: CacheKey) -> Bool {
        lhs.digest == rhs.digest && lhs.bytes == rhs.bytes
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(digest)
    }
}
