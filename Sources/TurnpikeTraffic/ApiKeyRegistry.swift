/// One configured API key as the request path sees it: who it is and whether it may be used.
public final class ApiKeyRecord: Sendable {
    public let id: String
    public let name: String
    /// A disabled key is known but refused (403 `{"message":"Forbidden"}`), like a missing one.
    public let enabled: Bool
    /// Position in `ApiKeyRegistry.records`; `UsagePlanSet` looks plans up by it.
    public let index: Int

    init(id: String, name: String, enabled: Bool, index: Int) {
        self.id = id
        self.name = name
        self.enabled = enabled
        self.index = index
    }
}

/// All API keys, indexed by value at config load so the request path finds the key for an `x-api-key` header's bytes without allocating.
///
/// An open-addressing table (linear probing, at most half full) of record numbers, placed by a seeded
/// hash of the value; a hit is confirmed by comparing the full value bytes. Values are unique: API
/// Gateway says so ("API key values must be unique" — developer guide, "Usage plans and API keys for
/// REST APIs in API Gateway"), so a duplicate is a configuration error rather than a silent pick.
public final class ApiKeyRegistry: Sendable {
    /// Every key, in configuration order.
    public let records: [ApiKeyRecord]
    private let slots: [Int32]
    private let slotMask: Int
    private let hashes: [UInt64]
    /// Key r's value is `valueBytes[valueStarts[r] ..< valueStarts[r + 1]]`.
    private let valueBytes: [UInt8]
    private let valueStarts: [Int]
    private let seed: UInt64
    private let idIndex: [String: Int]

    public init(keys: [ApiKeySpec]) throws(TrafficConfigError) {
        let seed = ByteHash.randomSeed()
        self.seed = seed
        var records: [ApiKeyRecord] = []
        var idIndex: [String: Int] = [:]
        var valueBytes: [UInt8] = []
        var valueStarts = [0]
        var hashes: [UInt64] = []
        var byValue: [String: String] = [:]
        for (index, key) in keys.enumerated() {
            guard !key.value.isEmpty else { throw .emptyApiKeyValue(keyId: key.id) }
            guard idIndex[key.id] == nil else { throw .duplicateApiKeyId(key.id) }
            if let other = byValue[key.value] { throw .duplicateApiKeyValue(keyId: key.id, otherKeyId: other) }
            byValue[key.value] = key.id
            idIndex[key.id] = index
            records.append(ApiKeyRecord(id: key.id, name: key.name, enabled: key.enabled, index: index))
            let bytes = Array(key.value.utf8)
            hashes.append(bytes.withUnsafeBytes { ByteHash.hash($0, seed: seed) })
            valueBytes.append(contentsOf: bytes)
            valueStarts.append(valueBytes.count)
        }
        var size = 2
        while size < keys.count * 2 { size *= 2 }
        var slots = [Int32](repeating: -1, count: size)
        for (index, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & (size - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (size - 1) }
            slots[slot] = Int32(index)
        }
        self.records = records
        self.idIndex = idIndex
        self.valueBytes = valueBytes
        self.valueStarts = valueStarts
        self.hashes = hashes
        self.slots = slots
        self.slotMask = size - 1
    }

    /// The key whose value is exactly `value` (enabled or not), or nil when no key has it.
    public func lookup(_ value: UnsafeRawBufferPointer) -> ApiKeyRecord? {
        let hash = ByteHash.hash(value, seed: seed)
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return nil }
            if hashes[index] == hash, matches(index, value) { return records[index] }
            slot = (slot + 1) & slotMask
        }
    }

    /// The key with configuration id `id`: for building usage plans and answering usage queries, not for requests.
    public func record(id: String) -> ApiKeyRecord? {
        idIndex[id].map { records[$0] }
    }

    @inline(__always)
    private func matches(_ index: Int, _ value: UnsafeRawBufferPointer) -> Bool {
        let start = valueStarts[index]
        let count = valueStarts[index + 1] - start
        guard count == value.count else { return false }
        return valueBytes.withUnsafeBytes { stored in
            var offset = 0
            while offset < count {
                if stored[start + offset] != value[offset] { return false }
                offset += 1
            }
            return true
        }
    }
}
