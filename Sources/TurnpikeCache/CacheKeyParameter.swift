/// One configured cache key parameter (`method.request.querystring.color` and friends): which
/// part of the request its value comes from, and under what name.
public struct CacheKeyParameter: Hashable, Sendable {
    /// Raw values order the parameters inside a key; they are part of the encoding, so never renumber.
    public enum Kind: UInt8, Sendable, Comparable {
        case pathParameter = 1
        case queryString = 2
        case header = 3

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public let kind: Kind
    /// Header names are stored lowercased, since HTTP compares them case-insensitively;
    /// path parameter and query string names are case-sensitive and kept as given.
    public let name: [UInt8]

    public init(_ kind: Kind, name: some StringProtocol) {
        self.kind = kind
        var bytes = Array(name.utf8)
        if kind == .header {
            for i in bytes.indices where bytes[i] >= UInt8(ascii: "A") && bytes[i] <= UInt8(ascii: "Z") {
                bytes[i] |= 0x20
            }
        }
        self.name = bytes
    }
}

extension CacheKeyParameter: Comparable {
    /// The canonical order of parameters inside a key: by kind, then by name bytes. It makes the
    /// key independent of the order the configuration happens to list the parameters in.
    public static func < (lhs: CacheKeyParameter, rhs: CacheKeyParameter) -> Bool {
        if lhs.kind != rhs.kind { return lhs.kind < rhs.kind }
        return lhs.name.lexicographicallyPrecedes(rhs.name)
    }
}
