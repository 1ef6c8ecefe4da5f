/// Builds cache keys from request bytes into one reusable buffer; a worker keeps one and reuses
/// it for every request, so the only allocation per key is the key's own copy of the bytes.
///
/// Encoding: method, resource path, then per parameter of the shape its kind, name, a presence
/// byte and (when present) the value — each variable part length-prefixed. An absent parameter
/// and one present with an empty value therefore give different keys, as in API Gateway.
public struct CacheKeyBuilder {
    private var buffer: [UInt8]
    private var tags: [[UInt8]] = []
    private var nextParameter = 0

    public init(reservingCapacity capacity: Int = 256) {
        buffer = []
        buffer.reserveCapacity(capacity)
    }

    /// Starts a key; the values of `shape.parameters` follow, in that order, via `appendValue`.
    public mutating func begin(method: UnsafeRawBufferPointer, shape: CacheKeyShape) {
        buffer.removeAll(keepingCapacity: true)
        KeyEncoding.appendLengthPrefixed(method, to: &buffer)
        buffer.append(contentsOf: shape.encodedResourcePath)
        tags = shape.encodedTags
        nextParameter = 0
    }

    public mutating func begin(method: String, shape: CacheKeyShape) {
        var method = method
        method.withUTF8 { begin(method: UnsafeRawBufferPointer($0), shape: shape) }
    }

    /// The next parameter's value; `nil` when the request does not carry it at all. Values beyond
    /// the shape's parameters have no slot in the key and are ignored.
    public mutating func appendValue(_ value: UnsafeRawBufferPointer?) {
        guard nextParameter < tags.count else { return }
        buffer.append(contentsOf: tags[nextParameter])
        nextParameter += 1
        if let value {
            buffer.append(KeyEncoding.present)
            KeyEncoding.appendLengthPrefixed(value, to: &buffer)
        } else {
            buffer.append(KeyEncoding.absent)
        }
    }

    public mutating func appendValue(_ value: String?) {
        guard var value else { return appendValue(nil as UnsafeRawBufferPointer?) }
        value.withUTF8 { appendValue(UnsafeRawBufferPointer($0)) }
    }

    /// The finished key. Parameters whose values were not appended count as absent, so a key is
    /// always complete for its shape.
    public mutating func finish() -> CacheKey {
        while nextParameter < tags.count {
            appendValue(nil as UnsafeRawBufferPointer?)
        }
        // A copy of exactly the key's length; the buffer stays this builder's, unshared.
        return CacheKey(bytes: buffer.withUnsafeBufferPointer { Array($0) })
    }
}
