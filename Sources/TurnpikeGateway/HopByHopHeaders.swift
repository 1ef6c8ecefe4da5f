/// Header fields a proxy must not forward (RFC 9110 §7.6.1), plus the ones Turnpike
/// rewrites itself (framing, Host, forwarding fields). Checked by length first so that
/// most fields cost one comparison.
enum HopByHopHeaders {
    enum Kind {
        case forward
        case drop
        case xForwardedFor
    }

    /// Request fields toward the upstream.
    @inline(__always)
    static func classifyRequest(_ name: UnsafeRawBufferPointer) -> Kind {
        switch name.count {
        case 2: return ASCII.equalsLowercased(name, "te") ? .drop : .forward
        case 4: return ASCII.equalsLowercased(name, "host") ? .drop : .forward
        case 6: return ASCII.equalsLowercased(name, "expect") ? .drop : .forward
        case 7:
            return ASCII.equalsLowercased(name, "trailer") || ASCII.equalsLowercased(name, "upgrade") ? .drop : .forward
        case 9: return ASCII.equalsLowercased(name, "forwarded") ? .drop : .forward
        case 10:
            return ASCII.equalsLowercased(name, "connection") || ASCII.equalsLowercased(name, "keep-alive") ? .drop : .forward
        case 14: return ASCII.equalsLowercased(name, "content-length") ? .drop : .forward
        case 15:
            if ASCII.equalsLowercased(name, "x-forwarded-for") { return .xForwardedFor }
            return .forward
        case 16:
            return ASCII.equalsLowercased(name, "x-forwarded-port") || ASCII.equalsLowercased(name, "proxy-connection") ? .drop : .forward
        case 17:
            return ASCII.equalsLowercased(name, "transfer-encoding") || ASCII.equalsLowercased(name, "x-forwarded-proto") ? .drop : .forward
        default: return .forward
        }
    }

    /// Response fields toward the client.
    @inline(__always)
    static func isResponseHopByHop(_ name: UnsafeRawBufferPointer) -> Bool {
        switch name.count {
        case 15: return ASCII.equalsLowercased(name, "apigw-requestid")  // ours replaces it
        case 2: return ASCII.equalsLowercased(name, "te")
        case 7: return ASCII.equalsLowercased(name, "trailer") || ASCII.equalsLowercased(name, "upgrade")
        case 10: return ASCII.equalsLowercased(name, "connection") || ASCII.equalsLowercased(name, "keep-alive")
        case 14: return ASCII.equalsLowercased(name, "content-length")
        case 16: return ASCII.equalsLowercased(name, "proxy-connection")
        case 17: return ASCII.equalsLowercased(name, "transfer-encoding")
        default: return false
        }
    }

    /// Whether a Connection field names anything but close, keep-alive or upgrade — the
    /// common answer (no) without allocating.
    static func hasListedNames(_ headers: UnsafeBufferPointer<HeaderField>) -> Bool {
        for field in headers where ASCII.equalsLowercased(field.name, "connection") {
            var start = 0
            let v = field.value
            while start < v.count {
                var end = start
                while end < v.count && v[end] != UInt8(ascii: ",") { end += 1 }
                var a = start, b = end
                while a < b && (v[a] == 32 || v[a] == 9) { a += 1 }
                while b > a && (v[b - 1] == 32 || v[b - 1] == 9) { b -= 1 }
                let token = UnsafeRawBufferPointer(rebasing: v[a..<b])
                if !token.isEmpty && !ASCII.equalsLowercased(token, "close")
                    && !ASCII.equalsLowercased(token, "keep-alive") && !ASCII.equalsLowercased(token, "upgrade") {
                    return true
                }
                start = end + 1
            }
        }
        return false
    }

    /// Names listed in a Connection field other than close/keep-alive: also hop-by-hop.
    static func connectionListed(_ headers: UnsafeBufferPointer<HeaderField>) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for field in headers where ASCII.equalsLowercased(field.name, "connection") {
            for token in field.value.split(separator: UInt8(ascii: ",")) {
                let t = Array(token.drop { $0 == 32 || $0 == 9 }.reversed().drop { $0 == 32 || $0 == 9 }.reversed()).map(ASCII.lower)
                if t.isEmpty || t == Array("close".utf8) || t == Array("keep-alive".utf8) || t == Array("upgrade".utf8) { continue }
                out.append(t)
            }
        }
        return out
    }
}
