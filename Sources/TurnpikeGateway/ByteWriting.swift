/// Appending text and numbers to a reusable byte buffer without building Strings.
extension Array where Element == UInt8 {
    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        append(contentsOf: bytes)
    }

    @inline(__always)
    mutating func append(ascii text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }

    mutating func append(string text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }

    /// Decimal digits of a non-negative integer.
    mutating func append(decimal value: Int) {
        if value < 10 {
            append(UInt8(48 + value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value < 0 ? 0 : value
        var count = 0
        Swift.withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 {
                d[19 - count] = UInt8(48 + v % 10)
                v /= 10
                count += 1
            }
            append(contentsOf: UnsafeRawBufferPointer(rebasing: d[(20 - count)...]))
        }
    }
}

/// ASCII case-insensitive comparisons on raw bytes.
enum ASCII {
    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 {
        (b >= 65 && b <= 90) ? b | 0x20 : b
    }

    /// `bytes` equals `lowercased` ignoring ASCII case; `lowercased` must already be lower case.
    @inline(__always)
    static func equalsLowercased(_ bytes: UnsafeRawBufferPointer, _ lowercased: [UInt8]) -> Bool {
        guard bytes.count == lowercased.count else { return false }
        var i = 0
        while i < bytes.count {
            if lower(bytes[i]) != lowercased[i] { return false }
            i += 1
        }
        return true
    }

    static func equalsLowercased(_ bytes: UnsafeRawBufferPointer, _ lowercased: StaticString) -> Bool {
        guard bytes.count == lowercased.utf8CodeUnitCount else { return false }
        let p = lowercased.utf8Start
        var i = 0
        while i < bytes.count {
            if lower(bytes[i]) != p[i] { return false }
            i += 1
        }
        return true
    }

    static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
