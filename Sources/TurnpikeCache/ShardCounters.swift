import Atomics

/// One shard's counters, published for readers on other threads. The shard updates them while it
/// holds its lock, with plain relaxed stores of values it already keeps (no read-modify-write on
/// the request path); readers sum them without taking any lock. The words fill one cache-line-
/// aligned allocation of their own, so two shards' counters never share a line.
final class ShardCounters: @unchecked Sendable {
    enum Word: Int {
        case hits, misses, coalescedWaits, evictions, bytes, entries, fillsInFlight
    }

    /// Seven in use, eight words make the 64-byte line.
    private static let words = 8
    private let storage: UnsafeMutablePointer<UnsafeAtomic<Int>.Storage>

    init() {
        storage = UnsafeMutableRawPointer
            .allocate(byteCount: Self.words * MemoryLayout<UnsafeAtomic<Int>.Storage>.stride, alignment: 64)
            .bindMemory(to: UnsafeAtomic<Int>.Storage.self, capacity: Self.words)
        for i in 0..<Self.words {
            (storage + i).initialize(to: UnsafeAtomic<Int>.Storage(0))
        }
    }

    deinit {
        storage.deinitialize(count: Self.words)
        storage.deallocate()
    }

    @inline(__always)
    func store(_ value: Int, _ word: Word) {
        UnsafeAtomic<Int>(at: storage + word.rawValue).store(value, ordering: .relaxed)
    }

    @inline(__always)
    func load(_ word: Word) -> Int {
        UnsafeAtomic<Int>(at: storage + word.rawValue).load(ordering: .relaxed)
    }

    /// Everything but the hit counter, which the hit path stores alone.
    func publish(_ state: borrowing ShardState) {
        store(state.misses, .misses)
        store(state.coalescedWaits, .coalescedWaits)
        store(state.evictions, .evictions)
        store(state.bytes, .bytes)
        store(state.entries, .entries)
        store(state.fillsInFlight, .fillsInFlight)
    }
}
