/// The token inside an identity source value.
public enum IdentityToken {
    /// `headerValue` without an optional `Bearer ` prefix (any case, then any spaces),
    /// which API Gateway accepts; nil when nothing is left. Surrounding whitespace is
    /// already gone (the parser trims field values).
    public static func extract(headerValue: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var start = 0
        let n = headerValue.count
        if n > 7,
           headerValue[0] | 0x20 == UInt8(ascii: "b"), headerValue[1] | 0x20 == UInt8(ascii: "e"),
           headerValue[2] | 0x20 == UInt8(ascii: "a"), headerValue[3] | 0x20 == UInt8(ascii: "r"),
           headerValue[4] | 0x20 == UInt8(ascii: "e"), headerValue[5] | 0x20 == UInt8(ascii: "r"),
           headerValue[6] == UInt8(ascii: " ") {
            start = 7
            while start < n, headerValue[start] == UInt8(ascii: " ") { start += 1 }
        }
        guard start < n else { return nil }
        return UnsafeRawBufferPointer(rebasing: headerValue[start...])
    }
}
