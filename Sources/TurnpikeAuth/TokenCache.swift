#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Verified tokens a worker has seen, so a repeated token costs a hash and a byte
/// compare instead of JSON parsing and a signature check. One per worker thread,
/// passed `inout`: no locks, no sharing.
///
/// Set-associative: a token's hash picks a set of `ways` slots; a new entry takes an
/// empty or expired slot of its set, else the set's oldest. Memory is bounded by
/// `capacity` entries (each holds the token's bytes and a shared `VerifiedToken`).
public struct TokenCache {
    private final class Entry {
        let token: [UInt8]
        let authorizerId: UInt64
        let validUntil: Int64
        let verified: VerifiedToken

        init(token: [UInt8], authorizerId: UInt64, validUntil: Int64, verified: VerifiedToken) {
            self.token = token
            self.authorizerId = authorizerId
            self.validUntil = validUntil
            self.verified = verified
        }
    }

    private static let ways = 4
    private var hashes: [UInt64]
    private var stamps: [UInt64]
    private var entries: [Entry?]
    private var clock: UInt64 = 0
    private let setMask: Int
    /// A cached token is re-verified after this long even if it expires later, so
    /// a key withdrawn from the JWKS stops being honoured within it.
    public let maxAgeSeconds: Int64

    public var capacity: Int { hashes.count }

    public init(capacity: Int = 10_000, maxAgeSeconds: Int64 = 300) {
        var sets = 1
        while sets * Self.ways < max(capacity, Self.ways) { sets <<= 1 }
        hashes = [UInt64](repeating: 0, count: sets * Self.ways)
        stamps = hashes
        entries = [Entry?](repeating: nil, count: sets * Self.ways)
        setMask = sets - 1
        self.maxAgeSeconds = maxAgeSeconds
    }

    /// 64-bit hash of the token: four independent multiply-mix lanes over 32-byte
    /// blocks (tokens are hundreds of bytes; one lane's dependency chain would cost
    /// four times as long), then 8-byte words, then the tail.
    static func hash(_ token: UnsafeRawBufferPointer) -> UInt64 {
        let n = token.count
        let m1: UInt64 = 0xBF58_476D_1CE4_E5B9
        let m2: UInt64 = 0x94D0_49BB_1331_11EB
        var a: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
        var b: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        var c: UInt64 = 0x1656_67B1_9E37_79F9
        var d: UInt64 = 0x27D4_EB2F_1656_67C5
        var i = 0
        while i + 32 <= n {
            a = (a ^ token.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* m1
            b = (b ^ token.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)) &* m1
            c = (c ^ token.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)) &* m1
            d = (d ^ token.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)) &* m1
            a ^= a >> 29
            b ^= b >> 29
            c ^= c >> 29
            d ^= d >> 29
            i += 32
        }
        var h = a ^ (b &* m2) ^ ((c ^ (c >> 31)) &* m1) ^ (d &* 0xFF51_AFD7_ED55_8CCD)
        while i + 8 <= n {
            h = (h ^ token.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* m1
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(token[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* m2
        h ^= h >> 31
        return h | 1
    }

    /// The verified token cached for exactly these bytes and this authorizer, if it is
    /// still within its validity.
    func lookup(_ token: UnsafeRawBufferPointer, hash: UInt64, authorizerId: UInt64, now: Int64) -> VerifiedToken? {
        let base = (Int(truncatingIfNeeded: hash >> 7) & setMask) * Self.ways
        for slot in base..<base + Self.ways where hashes[slot] == hash {
            guard let entry = entries[slot], entry.authorizerId == authorizerId, entry.validUntil > now,
                  entry.token.count == token.count else { continue }
            let same = entry.token.withUnsafeBytes { memcmp($0.baseAddress!, token.baseAddress!, token.count) == 0 }
            if same { return entry.verified }
        }
        return nil
    }

    mutating func insert(_ token: UnsafeRawBufferPointer, hash: UInt64, authorizerId: UInt64,
                         validUntil: Int64, verified: VerifiedToken, now: Int64) {
        let base = (Int(truncatingIfNeeded: hash >> 7) & setMask) * Self.ways
        var victim = base
        for slot in base..<base + Self.ways {
            guard let entry = entries[slot], entry.validUntil > now else {
                victim = slot
                break
            }
            if stamps[slot] < stamps[victim] { victim = slot }
        }
        clock &+= 1
        hashes[victim] = hash
        stamps[victim] = clock
        entries[victim] = Entry(token: Array(token), authorizerId: authorizerId, validUntil: validUntil,
                                verified: verified)
    }

    /// Drops every entry (e.g. on a configuration reload).
    public mutating func removeAll() {
        for i in entries.indices {
            entries[i] = nil
            hashes[i] = 0
        }
    }
}
