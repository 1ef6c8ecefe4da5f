/// What one route's cache keys are made of, worked out at config load: the resource path and
/// the cache key parameters in canonical order, already encoded, so building a key per request
/// is only byte copies.
public struct CacheKeyShape: Sendable, Equatable {
    /// The route's path template (`/pets/{id}`), as AWS REST APIs key by resource, not by URL.
    public let resourcePath: [UInt8]
    /// Sorted and without duplicates: the order in which `CacheKeyBuilder` takes the values.
    public let parameters: [CacheKeyParameter]
    let encodedResourcePath: [UInt8]
    /// Each parameter's kind and name, length-prefixed, ready to precede its value.
    let encodedTags: [[UInt8]]

    public init(resourcePath: some StringProtocol, parameters: [CacheKeyParameter]) {
        self.resourcePath = Array(resourcePath.utf8)
        var unique: [CacheKeyParameter] = []
        for parameter in parameters.sorted() where unique.last != parameter {
            unique.append(parameter)
        }
        self.parameters = unique
        var path: [UInt8] = []
        KeyEncoding.appendLengthPrefixed(self.resourcePath, to: &path)
        encodedResourcePath = path
        encodedTags = unique.map { parameter in
            var tag: [UInt8] = [parameter.kind.rawValue]
            KeyEncoding.appendLengthPrefixed(parameter.name, to: &tag)
            return tag
        }
    }
}

/// The pieces of the key encoding. Every variable-length part is preceded by its length, so the
/// encoding parses back one way only and distinct inputs can never produce the same bytes (with
/// plain separators, `a=b&c` and `a=b` + `&c` would meet).
enum KeyEncoding {
    static let absent: UInt8 = 0
    static let present: UInt8 = 1

    /// LEB128: one byte for the short lengths that are the norm, no upper limit.
    @inline(__always)
    static func appendLength(_ length: Int, to out: inout [UInt8]) {
        var n = UInt(length)
        while n >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        out.append(UInt8(n))
    }

    static func appendLengthPrefixed(_ bytes: [UInt8], to out: inout [UInt8]) {
        appendLength(bytes.count, to: &out)
        out.append(contentsOf: bytes)
    }

    @inline(__always)
    static func appendLengthPrefixed(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        appendLength(bytes.count, to: &out)
        out.append(contentsOf: bytes)
    }
}
