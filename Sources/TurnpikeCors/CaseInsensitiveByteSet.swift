/// A fixed set of ASCII strings, looked up by borrowed bytes ignoring case: an open-addressed
/// table built once at config load, probed without allocating on the request path.
struct CaseInsensitiveByteSet: Sendable {
    /// Every member, lowercased, back to back.
    private let storage: [UInt8]
    /// Member `i` is `storage[starts[i]..<starts[i + 1]]`.
    private let starts: [Int]
    /// Member index + 1 per slot; 0 is empty. A power of two, at most half full.
    private let slots: [Int]

    init(_ members: some Sequence<String>) {
        var storage: [UInt8] = []
        var starts = [0]
        var unique = Set<String>()
        for member in members where unique.insert(member.lowercased()).inserted {
            storage.append(contentsOf: member.utf8.map(HeaderBytes.lower))
            starts.append(storage.count)
        }
        var capacity = 4
        while capacity < unique.count * 2 { capacity <<= 1 }
        var slots = [Int](repeating: 0, count: capacity)
        storage.withUnsafeBytes { bytes in
            for member in 0..<(starts.count - 1) {
                let text = UnsafeRawBufferPointer(rebasing: bytes[starts[member]..<starts[member + 1]])
                var slot = Int(truncatingIfNeeded: HeaderBytes.caseInsensitiveHash(text)) & (capacity - 1)
                while slots[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
                slots[slot] = member + 1
            }
        }
        self.storage = storage
        self.starts = starts
        self.slots = slots
    }

    var isEmpty: Bool { starts.count == 1 }

    func contains(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: HeaderBytes.caseInsensitiveHash(bytes)) & mask
        return storage.withUnsafeBufferPointer { storage in
            while true {
                let member = slots[slot] - 1
                if member < 0 { return false }
                let start = starts[member]
                if starts[member + 1] - start == bytes.count,
                   HeaderBytes.hasPrefix(bytes, at: 0, UnsafeBufferPointer(rebasing: storage[start..<(start + bytes.count)])) {
                    return true
                }
                slot = (slot + 1) & mask
            }
        }
    }
}
