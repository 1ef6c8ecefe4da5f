#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Numeric addresses, `host:port` endpoints and domain names as the config file writes them.
enum AddressSyntax {
    static func isIPv4(_ text: String) -> Bool {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { octet in
            (1...3).contains(octet.count) && octet.allSatisfy(\.isASCIIDigit) && Int(octet)! <= 255
        }
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return text.contains(":") && inet_pton(AF_INET6, text, &address) == 1
    }

    /// A listener or endpoint host: "localhost" becomes 127.0.0.1, "[v6]" loses its brackets.
    static func numericHost(_ text: String) -> String? {
        if text == "localhost" { return "127.0.0.1" }
        if isIPv4(text) { return text }
        if text.hasPrefix("["), text.hasSuffix("]") {
            let inner = String(text.dropFirst().dropLast())
            return isIPv6(inner) ? inner : nil
        }
        return isIPv6(text) ? text : nil
    }

    /// Parses `host:port` (host numeric IPv4, `[IPv6]` or localhost); the error says what is wrong.
    static func endpoint(_ text: String, defaultPort: Int? = nil) -> Result<Endpoint, SyntaxError> {
        let host: Substring
        let port: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(SyntaxError("\"\(text)\" has no closing \"]\""))
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                port = nil
            } else if rest.hasPrefix(":") {
                port = rest.dropFirst()
            } else {
                return .failure(SyntaxError("\"\(text)\": expected \":PORT\" after \"]\""))
            }
            guard isIPv6(String(host)) else {
                return .failure(SyntaxError("\"\(text)\": \"\(host)\" is not an IPv6 address"))
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") {
                return .failure(SyntaxError("\"\(text)\": write an IPv6 endpoint in brackets, e.g. \"[::1]:9001\""))
            }
        } else {
            host = text[...]
            port = nil
        }
        guard let numeric = numericHost(String(host)) else {
            return .failure(SyntaxError(
                "\"\(text)\": host must be a numeric IPv4 address, [IPv6] or localhost, got \"\(host)\""))
        }
        guard let port else {
            if let defaultPort { return .success(Endpoint(host: numeric, port: defaultPort)) }
            return .failure(SyntaxError("\"\(text)\": missing port (write HOST:PORT)"))
        }
        guard let number = Int(port), port.allSatisfy(\.isASCIIDigit), (1...65535).contains(number) else {
            return .failure(SyntaxError("\"\(text)\": port must be a number from 1 to 65535, got \"\(port)\""))
        }
        return .success(Endpoint(host: numeric, port: number))
    }

    /// A DNS name, optionally starting with "*." (wildcard); compared lowercased.
    static func isDomainName(_ text: String) -> Bool {
        let name = text.hasPrefix("*.") ? String(text.dropFirst(2)) : text
        guard !name.isEmpty, name.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count)
                && label.allSatisfy { $0.isASCIILetterOrDigit || $0 == "-" }
                && label.first != "-" && label.last != "-"
        }
    }
}

/// A syntax problem in one value; the caller adds where it is.
struct SyntaxError: Error {
    let message: String

    init(_ message: String) {
        self.message = message
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIILetterOrDigit: Bool { isASCIIDigit || ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    /// A word character of names: letters, digits and "_".
    var isNameCharacter: Bool { isASCIILetterOrDigit || self == "_" }
}

/// FNV-1a, 64 bit: a stable hash, so generated api ids survive restarts.
func fnv1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}
