// Byte-level helpers shared by the route table and the API selector. A request path is matched as
// API Gateway matches it: after one round of percent-decoding, so `%2F` separates segments and
// `/p%65ts` is `/pets` (HTTP APIs decode the path before choosing a route: a request to
// `/a%2Fb/thing` does not match `/{example}/thing` — Stack Overflow "How to encode parameters for
// AWS API Gateway (HTTP API)?", reproduced at errorhandle.ai and prodissertation.co.uk).
// Decoding happens on the fly while comparing, so matching never allocates.

enum PathBytes {
    static let slash = UInt8(ascii: "/")
    static let percent = UInt8(ascii: "%")

    /// Value of an ASCII hex digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }

    /// Where the segment starting at `start` ends (exclusive) and where the next one begins, if a
    /// separator (`/`, or `%2F` decoded) follows before `limit`.
    @inline(__always)
    static func segment(
        in path: UnsafeRawBufferPointer, from start: Int, limit: Int
    ) -> (end: Int, next: Int?) {
        var i = start
        while i < limit {
            let byte = path[i]
            if byte == slash { return (i, i + 1) }
            if byte == percent, i + 2 < limit, path[i + 1] == UInt8(ascii: "2"),
               path[i + 2] | 0x20 == UInt8(ascii: "f") {
                return (i, i + 3)
            }
            i += 1
        }
        return (limit, nil)
    }

    /// Whether the raw bytes `path[start..<end]`, percent-decoded once, equal `literal`.
    /// A `%` not followed by two hex digits stands for itself.
    @inline(__always)
    static func decodedEquals(
        _ path: UnsafeRawBufferPointer, _ start: Int, _ end: Int,
        _ literal: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        var i = start
        var j = 0
        let count = literal.count
        while i < end {
            guard j < count else { return false }
            var byte = path[i]
            if byte == percent, i + 2 < end,
               let high = hexValue(path[i + 1]), let low = hexValue(path[i + 2]) {
                byte = high << 4 | low
                i += 3
            } else {
                i += 1
            }
            if byte != literal[j] { return false }
            j += 1
        }
        return j == count
    }

    /// Percent-decodes `bytes` once; malformed escapes are kept as they are and `+` stays `+`
    /// (it means space only in form-encoded query strings, not in paths — RFC 3986 §2.1).
    static func percentDecoded<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            if input[i] == percent, i + 2 < input.count,
               let high = hexValue(input[i + 1]), let low = hexValue(input[i + 2]) {
                output.append(high << 4 | low)
                i += 3
            } else {
                output.append(input[i])
                i += 1
            }
        }
        return output
    }

    /// ASCII lower-casing for host names; other bytes are unchanged.
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
