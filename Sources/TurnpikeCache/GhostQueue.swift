/// S3-FIFO's ghost queue: digests of keys recently evicted from the small queue without a second
/// use. A key that comes back while its ghost is remembered was evicted too early, so it goes
/// straight to the main queue. Only 8-byte digests are kept, never responses; a digest collision
/// merely sends one entry to the main queue, which costs hit rate, never correctness.
struct GhostQueue {
    /// Oldest first, as a ring; each remembered insertion is (digest, sequence number).
    private struct Ghost {
        var digest: UInt64
        var sequence: UInt64
    }

    private var ring: [Ghost] = []
    private var oldest = 0
    private var count = 0
    /// The sequence number of each digest's latest insertion; a ring slot whose number differs is
    /// stale (the digest was taken or inserted again later) and leaves the ring without effect.
    private var members: [UInt64: UInt64] = [:]
    private var nextSequence: UInt64 = 0

    /// Remembers `digest`, forgetting the oldest ghosts beyond `limit`.
    mutating func insert(_ digest: UInt64, limit: Int) {
        while count >= max(limit, 1) { dropOldest() }
        if count == ring.count { grow() }
        let sequence = nextSequence
        nextSequence &+= 1
        ring[(oldest + count) % ring.count] = Ghost(digest: digest, sequence: sequence)
        count += 1
        members[digest] = sequence
    }

    /// Whether `digest` was remembered; it is forgotten either way, since its key is back.
    mutating func take(_ digest: UInt64) -> Bool {
        members.removeValue(forKey: digest) != nil
    }

    mutating func removeAll() {
        ring = []
        oldest = 0
        count = 0
        members = [:]
    }

    private mutating func dropOldest() {
        let ghost = ring[oldest]
        if members[ghost.digest] == ghost.sequence {
            members.removeValue(forKey: ghost.digest)
        }
        oldest = (oldest + 1) % ring.count
        count -= 1
    }

    /// Doubles the ring, unrolling it so the oldest ghost is at index 0.
    private mutating func grow() {
        let capacity = max(16, ring.count * 2)
        var bigger: [Ghost] = []
        bigger.reserveCapacity(capacity)
        for i in 0..<count {
            bigger.append(ring[(oldest + i) % ring.count])
        }
        bigger.append(contentsOf: repeatElement(Ghost(digest: 0, sequence: 0), count: capacity - count))
        ring = bigger
        oldest = 0
    }
}
