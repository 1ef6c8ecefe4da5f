/// A stored upstream response, immutable and shared by every worker that answers from it; the
/// head and body are kept in wire form so a hit is one write of ready bytes.
public final class CachedResponse: Sendable {
    /// Bytes charged per entry on top of its key, headers and body: the entry object, its three
    /// array headers, its slot and index entry in the shard. An estimate that errs high, so a
    /// cache of many tiny responses still stays near its budget in real memory.
    public static let entryOverheadBytes = 192

    public let status: Int
    /// `name: value\r\n` lines, ready to send after the status line.
    public let headerBlock: [UInt8]
    public let body: [UInt8]
    public let storedAtNs: UInt64
    /// Lookups at or after this instant miss; the stage's TTL is applied by the caller.
    public let expiresAtNs: UInt64
    /// What the cache's byte budget counts for this entry: key + headers + body + overhead.
    public let byteSize: Int

    public init(
        key: CacheKey, status: Int, headerBlock: [UInt8], body: [UInt8],
        storedAtNs: UInt64, expiresAtNs: UInt64
    ) {
        self.status = status
        self.headerBlock = headerBlock
        self.body = body
        self.storedAtNs = storedAtNs
        self.expiresAtNs = expiresAtNs
        byteSize = key.bytes.count + headerBlock.count + body.count + Self.entryOverheadBytes
    }
}
