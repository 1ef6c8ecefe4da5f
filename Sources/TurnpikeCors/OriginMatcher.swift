// Which request origins an API's allowOrigins admits.
//
// AWS documents four forms for HTTP APIs ("Configure CORS for HTTP APIs in API Gateway",
// docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html): an exact origin
// (`https://www.example.com`), `*` (all origins), `https://*` ("allow any origin that begins
// with https://") and `http://*`. It documents no subdomain wildcard, and a report of
// `https://*.example.com` in an HTTP API's CORS (arpadt.com, "Dynamically handling origins in
// HTTP APIs") says the stack failed to deploy. Wildcard subdomains are therefore a Turnpike
// extension: in `scheme://*.example.com[:port]` the `*` stands for one or more whole DNS labels
// (`a.example.com`, `a.b.example.com`; never `example.com` itself), scheme and port must match.
//
// An origin is compared as browsers serialize it (RFC 6454 §6.2): scheme and host ignore ASCII
// case, a port is present only when it is not the scheme's default. So a configured
// `https://example.com:443` is kept as `https://example.com`, and a request origin that spells
// out `:443` (no browser sends one) matches nothing.

/// One compiled allowOrigins entry.
enum OriginPattern: Equatable {
    /// `*`.
    case any
    /// A whole origin, lowercased and without a default port.
    case exact(String)
    /// `scheme://*`: any origin with this `scheme://` prefix.
    case anyWithScheme(prefix: String)
    /// `scheme://*.domain[:port]`: `prefix` is `scheme://`, `suffix` is `.domain[:port]`.
    case subdomains(prefix: String, suffix: String)

    init(parsing text: String) throws(CorsConfigError) {
        if text == "*" { self = .any; return }
        // Sandboxed documents and file: pages send `Origin: null`; listing it is the user's call.
        if text == "null" { self = .exact("null"); return }
        let bytes = Array(text.utf8)
        guard let separator = Self.find(Array("://".utf8), in: bytes), separator > 0,
              Self.isScheme(bytes[..<separator]) else {
            throw .invalidOrigin(text)
        }
        let scheme = String(decoding: bytes[..<separator].map(HeaderBytes.lower), as: UTF8.self)
        let prefix = scheme + "://"
        let authority = bytes[(separator + 3)...]
        if authority.elementsEqual("*".utf8) { self = .anyWithScheme(prefix: prefix); return }
        let wildcard = authority.starts(with: "*.".utf8)
        let hostAndPort = wildcard ? authority.dropFirst(2) : authority
        guard !(wildcard && hostAndPort.first == UInt8(ascii: "[")),
              let normalized = Self.normalizedAuthority(hostAndPort, scheme: scheme) else {
            throw .invalidOrigin(text)
        }
        self = wildcard ? .subdomains(prefix: prefix, suffix: "." + normalized) : .exact(prefix + normalized)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    /// RFC 3986: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
    private static func isScheme(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, HeaderBytes.lower(first) &- UInt8(ascii: "a") < 26 else { return false }
        return bytes.allSatisfy { byte in
            HeaderBytes.lower(byte) &- UInt8(ascii: "a") < 26 || byte &- UInt8(ascii: "0") < 10
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
    }

    /// `host[:port]` lowercased, without the scheme's default port; nil when it is not one.
    private static func normalizedAuthority(_ bytes: ArraySlice<UInt8>, scheme: String) -> String? {
        var host = bytes
        var port: ArraySlice<UInt8> = []
        if host.first == UInt8(ascii: "[") {
            guard let close = host.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let address = host[(host.startIndex + 1)..<close]
            guard address.count >= 2, address.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else { return nil }
            let rest = host[(close + 1)...]
            host = host[...close]
            if !rest.isEmpty {
                guard rest.first == UInt8(ascii: ":") else { return nil }
                port = rest.dropFirst()
                guard !port.isEmpty else { return nil }
            }
        } else {
            if let colon = host.firstIndex(of: UInt8(ascii: ":")) {
                port = host[(colon + 1)...]
                host = host[..<colon]
                guard !port.isEmpty else { return nil }
            }
            guard isDomain(host) else { return nil }
        }
        if !port.isEmpty {
            guard port.count <= 5, port.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }),
                  let number = Int(String(decoding: port, as: UTF8.self)), number <= 65535 else { return nil }
            if (scheme == "https" && number == 443) || (scheme == "http" && number == 80) { port = [] }
        }
        let lowered = String(decoding: host.map(HeaderBytes.lower), as: UTF8.self)
        return port.isEmpty ? lowered : lowered + ":" + String(decoding: port, as: UTF8.self)
    }

    /// Dot-separated labels of letters, digits, `-` and `_`, none empty or longer than 63.
    private static func isDomain(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.allSatisfy(OriginMatcher.isLabelByte)
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10 || HeaderBytes.lower(byte) &- UInt8(ascii: "a") < 6
    }
}

/// An API's allowOrigins, compiled: decides whether a request's `Origin` bytes are admitted.
struct OriginMatcher: Sendable {
    let allowsAnyOrigin: Bool
    private let exact: CaseInsensitiveByteSet
    /// `scheme://` for each `scheme://*` entry, lowercased.
    private let schemePrefixes: [[UInt8]]
    /// `(scheme://, .domain[:port])` for each wildcard-subdomain entry, lowercased.
    private let subdomains: [(prefix: [UInt8], suffix: [UInt8])]

    init(_ patterns: [OriginPattern]) {
        allowsAnyOrigin = patterns.contains(.any)
        var exact: [String] = []
        var schemePrefixes: [[UInt8]] = []
        var subdomains: [(prefix: [UInt8], suffix: [UInt8])] = []
        for pattern in patterns {
            switch pattern {
            case .any: break
            case .exact(let origin): exact.append(origin)
            case .anyWithScheme(let prefix): schemePrefixes.append(Array(prefix.utf8))
            case .subdomains(let prefix, let suffix): subdomains.append((Array(prefix.utf8), Array(suffix.utf8)))
            }
        }
        self.exact = CaseInsensitiveByteSet(exact)
        self.schemePrefixes = schemePrefixes
        self.subdomains = subdomains
    }

    /// Letters, digits, `-`, `_`: what a host label may hold (underscores appear in real hosts).
    @inline(__always)
    static func isLabelByte(_ byte: UInt8) -> Bool {
        HeaderBytes.lower(byte) &- UInt8(ascii: "a") < 26 || byte &- UInt8(ascii: "0") < 10
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// What may follow `scheme://` in an origin: a host (a name or a bracketed IPv6 address) and port.
    @inline(__always)
    private static func isAuthorityByte(_ byte: UInt8) -> Bool {
        isLabelByte(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
            || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
    }

    /// Whether `origin` (already trimmed, non-empty) is admitted by an entry other than `*`.
    func matchesListedOrigin(_ origin: UnsafeRawBufferPointer) -> Bool {
        if exact.contains(origin) { return true }
        for prefix in schemePrefixes {
            let admitted = prefix.withUnsafeBufferPointer { prefix in
                guard origin.count > prefix.count, HeaderBytes.hasPrefix(origin, at: 0, prefix) else { return false }
                for index in prefix.count..<origin.count where !Self.isAuthorityByte(origin[index]) { return false }
                return true
            }
            if admitted { return true }
        }
        for pattern in subdomains where Self.matches(origin, pattern.prefix, pattern.suffix) {
            return true
        }
        return false
    }

    /// `origin` is `prefix`, then one or more labels joined by dots, then `suffix` (which begins with a dot).
    private static func matches(_ origin: UnsafeRawBufferPointer, _ prefix: [UInt8], _ suffix: [UInt8]) -> Bool {
        let labelsEnd = origin.count - suffix.count
        guard labelsEnd > prefix.count else { return false }
        let affixesMatch = prefix.withUnsafeBufferPointer { prefix in
            suffix.withUnsafeBufferPointer { suffix in
                HeaderBytes.hasPrefix(origin, at: 0, prefix) && HeaderBytes.hasPrefix(origin, at: labelsEnd, suffix)
            }
        }
        guard affixesMatch else { return false }
        var previous = UInt8(ascii: ".")
        for index in prefix.count..<labelsEnd {
            let byte = origin[index]
            if byte == UInt8(ascii: ".") {
                if previous == UInt8(ascii: ".") { return false }
            } else if !isLabelByte(byte) {
                return false
            }
            previous = byte
        }
        return previous != UInt8(ascii: ".")
    }
}
