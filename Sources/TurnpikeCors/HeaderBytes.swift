// Byte-level helpers for header names and values; everything here works on borrowed bytes and
// never allocates.

enum HeaderBytes {
    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }

    @inline(__always)
    static func isOptionalWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// RFC 9110 `tchar`: what a method or header name is made of.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    /// `bytes[start..<end]` without leading and trailing spaces and tabs.
    @inline(__always)
    static func trimmed(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> UnsafeRawBufferPointer {
        var low = start
        var high = end
        while low < high, isOptionalWhitespace(bytes[low]) { low += 1 }
        while high > low, isOptionalWhitespace(bytes[high - 1]) { high -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[low..<high])
    }

    /// Whether `bytes[offset...]` starts with `lowercased`, ignoring ASCII case in `bytes`.
    @inline(__always)
    static func hasPrefix(
        _ bytes: UnsafeRawBufferPointer, at offset: Int, _ lowercased: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        guard offset >= 0, bytes.count - offset >= lowercased.count else { return false }
        for index in 0..<lowercased.count where lower(bytes[offset + index]) != lowercased[index] {
            return false
        }
        return true
    }

    /// FNV-1a over the lowercased bytes.
    @inline(__always)
    static func caseInsensitiveHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(lower(byte))) &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Appends a `name: value\r\n` line.
    static func appendLine(_ name: String, _ value: String, to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: ": ".utf8)
        out.append(contentsOf: value.utf8)
        out.append(contentsOf: "\r\n".utf8)
    }
}
