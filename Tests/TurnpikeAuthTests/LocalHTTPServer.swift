import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A tiny loopback-only HTTP/1.1 server on its own thread, for JWKS fetch tests:
/// one request per connection, answers from a path → response table, counts hits.
final class LocalHTTPServer: @unchecked Sendable {
    struct Response {
        var status = 200
        var body: [UInt8]
        var chunked = false
        var delayMilliseconds = 0
    }

    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var routes: [String: Response] = [:]
    private var hitCounts: [String: Int] = [:]

    private init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, len)
                _ = getsockname(fd, $0, &len)
            }
        }
        port = UInt16(bigEndian: addr.sin_port)
        listen(fd, 16)
        listener = fd
    }

    /// A started server.
    static func start() -> LocalHTTPServer {
        let server = LocalHTTPServer()
        Thread { server.serve() }.start()
        return server
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func set(_ path: String, _ response: Response) {
        lock.lock()
        routes[path] = response
        lock.unlock()
    }

    func set(_ path: String, body: Data, status: Int = 200, chunked: Bool = false) {
        set(path, Response(status: status, body: Array(body), chunked: chunked))
    }

    func hits(_ path: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return hitCounts[path, default: 0]
    }

    /// Wakes the accept loop; the loop closes the listener itself, so its descriptor number
    /// cannot be reused by the next test's server while this thread may still accept on it.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { break }
            handle(client)
            close(client)
        }
        close(listener)
    }

    private func handle(_ client: Int32) {
        var request = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while !request.isEmpty ? !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") : true {
            let n = recv(client, &buf, buf.count, 0)
            if n <= 0 { return }
            // A TLS ClientHello: answer in plain HTTP, as a real plain server would.
            if request.isEmpty, buf[0] == 0x16 {
                _ = send(client, "HTTP/1.1 400 Bad Request\r\n\r\n", 28, Int32(MSG_NOSIGNAL))
                return
            }
            request += buf[0..<n]
        }
        let line = String(decoding: request, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let path = line.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        lock.lock()
        hitCounts[path, default: 0] += 1
        let response = routes[path] ?? Response(status: 404, body: Array("not found".utf8))
        lock.unlock()
        if response.delayMilliseconds > 0 { usleep(UInt32(response.delayMilliseconds * 1000)) }
        var out = Array("HTTP/1.1 \(response.status) X\r\nContent-Type: application/json\r\nConnection: close\r\n".utf8)
        if response.chunked {
            out += Array("Transfer-Encoding: chunked\r\n\r\n".utf8)
            var i = 0
            while i < response.body.count {
                let piece = response.body[i..<min(i + 100, response.body.count)]
                out += Array((String(piece.count, radix: 16) + ";ext=1\r\n").utf8) + piece + Array("\r\n".utf8)
                i += 100
            }
            out += Array("0\r\n\r\n".utf8)
        } else {
            out += Array("Content-Length: \(response.body.count)\r\n\r\n".utf8) + response.body
        }
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }
}

/// Polls `condition` for up to `seconds`.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
