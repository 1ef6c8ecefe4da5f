import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A problem with the flags or files, said to the user as is.
public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Where the load goes: one scheme, host and port for every request of the mix.
struct BenchTarget: Equatable {
    var tls: Bool
    var host: String
    var port: UInt16
    var ip: String

    var authority: String {
        let defaultPort: UInt16 = tls ? 443 : 80
        let h = host.contains(":") ? "[\(host)]" : host
        return port == defaultPort ? h : "\(h):\(port)"
    }
}

/// One kind of request in the mix.
struct BenchRequestKind {
    var method: String
    var path: String
    var weight: UInt32
}

/// Everything a run needs, checked and read from the files once.
struct BenchPlan {
    var target: BenchTarget
    var kinds: [BenchRequestKind]
    var headers: [(String, String)]
    var body: [UInt8]
    var varyValues: [String]
    var durationNs: UInt64
    var warmupNs: UInt64
    var timeoutNs: UInt64
    var urlsText: [String]

    init(_ o: BenchOptions) throws {
        var lines: [(weight: UInt32, method: String?, url: String)] = o.urls.map { (1, nil, $0) }
        if let file = o.urlFile {
            for raw in try Self.lines(of: file) {
                let fields = raw.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                var weight: UInt32 = 1
                var method: String?
                var rest = fields[...]
                if let w = rest.first.flatMap({ UInt32($0) }) {
                    guard w > 0 else { throw BenchError("\(file): weight must be positive in '\(raw)'") }
                    weight = w
                    rest = rest.dropFirst()
                }
                if rest.count == 2 { method = rest.first; rest = rest.dropFirst() }
                guard rest.count == 1 else { throw BenchError("\(file): expected [WEIGHT] [METHOD] URL, got '\(raw)'") }
                lines.append((weight, method, rest.first!))
            }
        }
        guard !lines.isEmpty else { throw BenchError("no URL to load") }
        var target: BenchTarget?
        var kinds: [BenchRequestKind] = []
        for line in lines {
            let (t, path) = try Self.parse(url: line.url)
            if let target, target != t {
                throw BenchError("every URL must share scheme, host and port: \(line.url)")
            }
            target = t
            kinds.append(BenchRequestKind(method: (line.method ?? o.method).uppercased(), path: path, weight: line.weight))
        }
        self.target = target!
        self.kinds = kinds
        urlsText = lines.map(\.url)

        var headers: [(String, String)] = []
        var headerLines = o.headers
        if let file = o.headerFile { headerLines += try Self.lines(of: file) }
        for h in headerLines {
            guard let colon = h.firstIndex(of: ":"), colon != h.startIndex else {
                throw BenchError("a header is 'Name: value', got '\(h)'")
            }
            let name = String(h[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(h[h.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if ["host", "content-length", "transfer-encoding", "connection"].contains(name.lowercased()) {
                throw BenchError("\(name) is set by turnpike-bench itself")
            }
            headers.append((name, value))
        }
        self.headers = headers
        if let file = o.bodyFile {
            guard let data = FileManager.default.contents(atPath: file) else { throw BenchError("cannot read \(file)") }
            body = [UInt8](data)
        } else {
            body = Array((o.body ?? "").utf8)
        }
        varyValues = try o.varyFile.map { try Self.lines(of: $0) } ?? []
        if o.varyFile != nil && varyValues.isEmpty { throw BenchError("\(o.varyFile!) has no values") }
        durationNs = Duration.parseNanoseconds(o.duration) ?? 0
        warmupNs = Duration.parseNanoseconds(o.warmup) ?? 0
        timeoutNs = Duration.parseNanoseconds(o.timeout) ?? 10_000_000_000
        if o.requests == nil && durationNs == 0 { throw BenchError("--duration must be more than zero") }
    }

    /// Non-empty lines without # comments.
    static func lines(of path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw BenchError("cannot read \(path)")
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    static func parse(url: String) throws -> (BenchTarget, String) {
        let tls: Bool
        var rest: Substring
        if url.hasPrefix("http://") { tls = false; rest = url.dropFirst(7) }
        else if url.hasPrefix("https://") { tls = true; rest = url.dropFirst(8) }
        else { throw BenchError("not an http:// or https:// URL: \(url)") }
        let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        var host: String
        var port: UInt16 = tls ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw BenchError("bad IPv6 address in \(url)") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = UInt16(after.dropFirst()) else { throw BenchError("bad port in \(url)") }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = UInt16(authority[authority.index(after: colon)...]) else { throw BenchError("bad port in \(url)") }
            port = p
        } else {
            host = String(authority)
        }
        guard !host.isEmpty else { throw BenchError("no host in \(url)") }
        return (BenchTarget(tls: tls, host: host, port: port, ip: try resolve(host)), path)
    }

    /// A numeric address for the host (the first one getaddrinfo gives).
    static func resolve(_ host: String) throws -> String {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else {
            throw BenchError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        var buffer = [CChar](repeating: 0, count: 64)
        if first.pointee.ai_family == AF_INET6 {
            var a = first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            inet_ntop(AF_INET6, &a, &buffer, 64)
        } else {
            var a = first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            inet_ntop(AF_INET, &a, &buffer, 64)
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
