/// Appends JSON text to a byte buffer: the events are written field by field, in the
/// order AWS writes them, without an intermediate value tree.
public struct JSONText {
    public private(set) var bytes: [UInt8] = []
    /// Whether the next member or element needs a comma first, per open container.
    private var needsComma: [Bool] = []

    public init(capacity: Int = 2048) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    public mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    /// A member name; the value follows with one of the value calls.
    public mutating func key(_ name: String) {
        separate()
        Self.quote(name.utf8, into: &bytes)
        bytes.append(UInt8(ascii: ":"))
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = false }
    }

    public mutating func string(_ value: String) { separate(); Self.quote(value.utf8, into: &bytes) }
    public mutating func string<S: Sequence>(bytes value: S) where S.Element == UInt8 {
        separate()
        Self.quote(value, into: &bytes)
    }
    public mutating func null() { separate(); bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }
    public mutating func bool(_ value: Bool) { separate(); bytes.append(contentsOf: Array((value ? "true" : "false").utf8)) }
    public mutating func int(_ value: Int64) { separate(); bytes.append(contentsOf: Array(String(value).utf8)) }
    /// Already valid JSON text (e.g. a value an authorizer returned).
    public mutating func raw(_ json: [UInt8]) { separate(); bytes.append(contentsOf: json) }

    public mutating func member(_ name: String, _ value: String) { key(name); string(value) }
    public mutating func member(_ name: String, _ value: String?) {
        key(name)
        if let value { string(value) } else { null() }
    }

    private mutating func separate() {
        guard let last = needsComma.last else { return }
        if last { bytes.append(UInt8(ascii: ",")) } else { needsComma[needsComma.count - 1] = true }
    }

    /// RFC 8259 string quoting; bytes that are not UTF-8 become U+FFFD.
    static func quote<S: Sequence>(_ value: S, into out: inout [UInt8]) where S.Element == UInt8 {
        out.append(UInt8(ascii: "\""))
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var scalars = Array(value)
        if !scalars.allSatisfy({ $0 < 0x80 }) {
            scalars = Array(String(decoding: scalars, as: UTF8.self).utf8)
        }
        for b in scalars {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
