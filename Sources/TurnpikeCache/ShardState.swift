/// One shard of the response cache: its entries, their S3-FIFO queues, the ghost queue and the
/// fills in flight. Plain single-threaded code; `ResponseCache` runs every call under the shard's lock.
///
/// S3-FIFO (Yang et al., SOSP 2023): new keys enter a small FIFO holding ~10% of the bytes; one
/// that is read again before it reaches the small queue's end moves to the main FIFO, others
/// leave and are remembered in the ghost queue (a key found there on insertion goes straight to
/// main). The main FIFO gives an entry with reads another lap (a frequency of up to 3), like
/// CLOCK. A scan of one-hit keys thus churns only the small queue and never displaces the hot
/// set in main; a hit costs one byte increment — no list moves, unlike LRU.
struct ShardState {
    struct Fill {
        var startedAtNs: UInt64
        var waiters: [CacheWaiter] = []
        /// Cleared by a flush: the response was fetched before it, so it answers the waiters but
        /// is not stored.
        var storable = true
    }

    private struct Slot {
        var key: CacheKey?
        var response: CachedResponse?
        var charge = 0
        var newer = -1
        var older = -1
        var frequency: UInt8 = 0
        var inMain = false
    }

    /// A FIFO threaded through the slots by index, so removing an expired or replaced entry from
    /// the middle is O(1) and no node is allocated per entry.
    private struct SlotQueue {
        var newest = -1
        var oldest = -1
        var bytes = 0
        var count = 0

        mutating func pushNewest(_ i: Int, in slots: inout [Slot]) {
            slots[i].newer = -1
            slots[i].older = newest
            if newest >= 0 { slots[newest].newer = i } else { oldest = i }
            newest = i
            bytes += slots[i].charge
            count += 1
        }

        mutating func remove(_ i: Int, in slots: inout [Slot]) {
            let newer = slots[i].newer
            let older = slots[i].older
            if newer >= 0 { slots[newer].older = older } else { newest = older }
            if older >= 0 { slots[older].newer = newer } else { oldest = newer }
            bytes -= slots[i].charge
            count -= 1
        }
    }

    static let maxFrequency: UInt8 = 3

    let budget: Int
    private let smallBudget: Int
    private var index: [CacheKey: Int] = [:]
    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    private var small = SlotQueue()
    private var main = SlotQueue()
    private var ghost = GhostQueue()
    private var fills: [CacheKey: Fill] = [:]

    private(set) var hits = 0
    private(set) var misses = 0
    private(set) var coalescedWaits = 0
    private(set) var evictions = 0

    var bytes: Int { small.bytes + main.bytes }
    var entries: Int { index.count }
    var fillsInFlight: Int { fills.count }

    init(budget: Int) {
        self.budget = budget
        smallBudget = budget / 10
    }

    mutating func lookup(_ key: CacheKey, nowNs: UInt64, waiter: CacheWaiter, fillTimeoutNs: UInt64) -> CacheLookup {
        if let i = index[key], let response = slots[i].response {
            if nowNs < response.expiresAtNs {
                if slots[i].frequency < Self.maxFrequency { slots[i].frequency += 1 }
                hits += 1
                return .hit(response)
            }
            removeEntry(at: i)
        }
        misses += 1
        if let fill = fills[key] {
            // Clocks read on different workers may be a little apart: a fill "from the future"
            // is fresh, not stale.
            let age = nowNs >= fill.startedAtNs ? nowNs - fill.startedAtNs : 0
            if age < fillTimeoutNs {
                fills[key]?.waiters.append(waiter)
                coalescedWaits += 1
                return .wait
            }
            // The filler is presumed lost; this caller takes over and the waiters stay, to be
            // answered by the new fill.
            fills[key]?.startedAtNs = nowNs
            fills[key]?.storable = true
            return .fill
        }
        fills[key] = Fill(startedAtNs: nowNs)
        return .fill
    }

    mutating func complete(_ key: CacheKey, with response: CachedResponse, maxEntryBytes: Int) -> [CacheWaiter] {
        var waiters: [CacheWaiter] = []
        if let fill = fills.removeValue(forKey: key) {
            waiters = fill.waiters
            if !fill.storable { return waiters }
        }
        store(key, response, maxEntryBytes: maxEntryBytes)
        return waiters
    }

    mutating func abandon(_ key: CacheKey) -> [CacheWaiter] {
        fills.removeValue(forKey: key)?.waiters ?? []
    }

    /// Drops every entry and ghost. Fills in flight stay, so their waiters are still answered,
    /// but what they bring back was fetched before the flush and is not stored.
    mutating func flush() {
        index = [:]
        slots = []
        freeSlots = []
        small = SlotQueue()
        main = SlotQueue()
        ghost.removeAll()
        for key in Array(fills.keys) {
            fills[key]?.storable = false
        }
    }

    private mutating func store(_ key: CacheKey, _ response: CachedResponse, maxEntryBytes: Int) {
        // The response's own instant stands in for "now": `complete` is called right after it arrives.
        let nowNs = response.storedAtNs
        let charge = response.byteSize
        guard charge <= min(maxEntryBytes, budget), response.expiresAtNs > nowNs else { return }
        if let i = index[key] {
            // A second fill for the key (after a stale takeover): the entry keeps its queue and
            // frequency, and counts as newly arrived there.
            removeFromQueue(i)
            slots[i].response = response
            slots[i].charge = charge
            if slots[i].inMain { main.pushNewest(i, in: &slots) } else { small.pushNewest(i, in: &slots) }
            while bytes > budget { evictOne(nowNs: nowNs) }
            return
        }
        while bytes + charge > budget && entries > 0 { evictOne(nowNs: nowNs) }
        let i: Int
        if let free = freeSlots.popLast() {
            i = free
        } else {
            i = slots.count
            slots.append(Slot())
        }
        slots[i] = Slot(key: key, response: response, charge: charge)
        index[key] = i
        if ghost.take(key.digest) {
            slots[i].inMain = true
            main.pushNewest(i, in: &slots)
        } else {
            small.pushNewest(i, in: &slots)
        }
    }

    /// Frees one entry's worth of space, or makes progress towards it (a promotion to main, or
    /// a main entry's second chance); each step shrinks a finite quantity, so callers' loops end.
    private mutating func evictOne(nowNs: UInt64) {
        if small.count > 0 && (small.bytes > smallBudget || main.count == 0) {
            let i = small.oldest
            small.remove(i, in: &slots)
            if isExpired(i, nowNs: nowNs) {
                freeSlot(i)
            } else if slots[i].frequency > 0 {
                slots[i].frequency = 0
                slots[i].inMain = true
                main.pushNewest(i, in: &slots)
            } else {
                if let digest = slots[i].key?.digest { ghost.insert(digest, limit: entries) }
                freeSlot(i)
                evictions += 1
            }
        } else if main.count > 0 {
            let i = main.oldest
            main.remove(i, in: &slots)
            if isExpired(i, nowNs: nowNs) {
                freeSlot(i)
            } else if slots[i].frequency > 0 {
                slots[i].frequency -= 1
                main.pushNewest(i, in: &slots)
            } else {
                freeSlot(i)
                evictions += 1
            }
        }
    }

    private func isExpired(_ i: Int, nowNs: UInt64) -> Bool {
        (slots[i].response?.expiresAtNs ?? 0) <= nowNs
    }

    private mutating func removeEntry(at i: Int) {
        removeFromQueue(i)
        freeSlot(i)
    }

    private mutating func removeFromQueue(_ i: Int) {
        if slots[i].inMain { main.remove(i, in: &slots) } else { small.remove(i, in: &slots) }
    }

    /// Releases a slot already unlinked from its queue.
    private mutating func freeSlot(_ i: Int) {
        if let key = slots[i].key { index.removeValue(forKey: key) }
        slots[i] = Slot()
        freeSlots.append(i)
    }
}
