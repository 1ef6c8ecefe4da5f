/// A seeded 64-bit hash of a byte string, for the lock-free tables (API key values, client addresses).
///
/// Eight bytes at a time, each word folded in by multiply-and-rotate, then a final avalanche so every
/// input bit reaches the low bits a table indexes by. The seed is random per table and never leaves
/// the process, so a client cannot pick inputs that collide or probe long chains.
enum ByteHash {
    private static let m1: UInt64 = 0x9E37_79B9_7F4A_7C15
    private static let m2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let m3: UInt64 = 0xFF51_AFD7_ED55_8CCD

    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var h = seed ^ (UInt64(bytes.count) &* m1)
        var offset = 0
        let count = bytes.count
        if let base = bytes.baseAddress {
            while offset + 8 <= count {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                h = fold(h, word)
                offset += 8
            }
            if offset < count {
                var tail: UInt64 = 0
                var shift: UInt64 = 0
                while offset < count {
                    tail |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) << shift
                    shift += 8
                    offset += 1
                }
                h = fold(h, tail)
            }
        }
        return avalanche(h)
    }

    @inline(__always)
    private static func fold(_ h: UInt64, _ word: UInt64) -> UInt64 {
        let mixed = (word &* m2)
        let rotated = (mixed << 31) | (mixed >> 33)
        let next = (h ^ (rotated &* m1))
        return ((next << 27) | (next >> 37)) &* 5 &+ 0x52DC_E729
    }

    @inline(__always)
    private static func avalanche(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h = h &* m3
        h ^= h >> 29
        h = h &* m2
        h ^= h >> 32
        return h
    }

    /// A fresh secret seed for one table.
    static func randomSeed() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }
}
