/// The 64-bit digest of a cache key's bytes: picks the shard, stands in for the key in the ghost
/// queue, and lets two keys with different digests compare unequal without touching their bytes.
///
/// Key bytes carry client-chosen query strings and headers, so the hash is seeded with a secret
/// drawn once per process: a client cannot precompute keys that collide into one shard or one
/// dictionary chain. Every worker must derive the same digest for the same key, hence one seed
/// per process rather than per builder.
enum KeyHash {
    private static let seed: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()

    private static let m1: UInt64 = 0xA076_1D64_78BD_642F
    private static let m2: UInt64 = 0xE703_7ED1_A0B4_28DB

    static func digest(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let count = bytes.count
        var h = seed ^ (UInt64(count) &* m1)
        var offset = 0
        while offset + 8 <= count {
            h = mix(h ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)), m2)
            offset += 8
        }
        if offset < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                tail |= UInt64(bytes[offset]) << shift
                shift += 8
                offset += 1
            }
            h = mix(h ^ tail, m2)
        }
        return mix(h ^ (h >> 29), m2)
    }

    /// Full-width multiply, high and low halves folded: every input bit reaches every output bit
    /// in one step, which a plain multiply (carries only move upward) does not give.
    @inline(__always)
    private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = (a ^ m1).multipliedFullWidth(by: b)
        return product.high ^ product.low
    }
}
