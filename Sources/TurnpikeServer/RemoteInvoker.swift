import CTurnpikeShim
import Synchronization
import TurnpikeConfig
import TurnpikeLambda

#if canImport(Glibc)
import Glibc
#endif

/// Invokes one remote function through the Lambda Invoke API
/// (`POST /2015-03-31/functions/NAME/invocations`), `reservedConcurrency` requests at a
/// time, each on a thread of its own with a keep-alive connection (blocking I/O, never on
/// a loop). Requests are signed with SigV4 when credentials are configured.
final class RemoteInvoker: @unchecked Sendable {
    let function: LambdaFunction
    private let remote: RemoteFunction
    private let signer: SigV4Signer?
    private let deliver: @Sendable (InvocationTicket, InvocationOutcome, UInt64) -> Void
    private let log: @Sendable (String) -> Void
    private struct Queue {
        var pending: [Invocation] = []
        var inFlight = 0
        var stopping = false
    }
    private let queue = Mutex(Queue())
    private var wake = pthread_cond_t()
    private var wakeLock = pthread_mutex_t()
    private var threads: [pthread_t] = []

    init(
        function: LambdaFunction, remote: RemoteFunction,
        deliver: @escaping @Sendable (InvocationTicket, InvocationOutcome, UInt64) -> Void,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.function = function
        self.remote = remote
        self.deliver = deliver
        self.log = log
        if let id = remote.accessKeyId, let secret = remote.secretAccessKey {
            signer = SigV4Signer(
                credentials: AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: remote.sessionToken),
                region: remote.region)
        } else {
            signer = nil
        }
        pthread_cond_init(&wake, nil)
        pthread_mutex_init(&wakeLock, nil)
    }

    func start() {
        for _ in 0..<function.reservedConcurrency {
            let box = Unmanaged.passRetained(self)
            var t = pthread_t()
            pthread_create(&t, nil, { arg in
                let invoker = Unmanaged<RemoteInvoker>.fromOpaque(arg!).takeRetainedValue()
                invoker.work()
                return nil
            }, box.toOpaque())
            threads.append(t)
        }
    }

    func stop() {
        pthread_mutex_lock(&wakeLock)
        queue.withLock { $0.stopping = true }
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&wakeLock)
        for t in threads { pthread_join(t, nil) }
        threads.removeAll()
    }

    /// Any thread: throttled at once when every connection is busy, as Lambda throttles.
    func submit(_ invocation: Invocation) {
        let accepted = queue.withLock { q -> Bool in
            guard q.inFlight < function.reservedConcurrency else { return false }
            q.inFlight += 1
            q.pending.append(invocation)
            return true
        }
        guard accepted else {
            deliver(invocation.ticket, .throttled, tp_now_ns())
            return
        }
        pthread_mutex_lock(&wakeLock)
        pthread_cond_signal(&wake)
        pthread_mutex_unlock(&wakeLock)
    }

    private func work() {
        var connection: Int32 = -1
        while true {
            pthread_mutex_lock(&wakeLock)
            var next: Invocation? = nil
            while true {
                let (item, stop) = queue.withLock { q -> (Invocation?, Bool) in
                    if q.stopping { return (nil, true) }
                    return (q.pending.isEmpty ? nil : q.pending.removeFirst(), false)
                }
                if stop { break }
                if let item { next = item; break }
                pthread_cond_wait(&wake, &wakeLock)
            }
            pthread_mutex_unlock(&wakeLock)
            guard let invocation = next else { break }
            // nil: a kept-alive connection the endpoint had closed; once more on a fresh one.
            let outcome = invoke(invocation, connection: &connection)
                ?? invoke(invocation, connection: &connection)
                ?? .failed("no answer from \(remote.host):\(remote.port)")
            queue.withLock { $0.inFlight -= 1 }
            deliver(invocation.ticket, outcome, tp_now_ns())
        }
        if connection >= 0 { close(connection) }
    }

    /// One request and its answer; `connection` is reused and reset to -1 when it broke.
    /// nil when a reused connection turned out closed before any answer (safe to resend).
    private func invoke(_ invocation: Invocation, connection: inout Int32) -> InvocationOutcome? {
        let fresh = connection < 0
        if fresh {
            guard let fd = connect(timeoutSeconds: function.timeoutSeconds) else {
                return .failed("could not connect to \(remote.host):\(remote.port)")
            }
            connection = fd
        }
        let path = "/2015-03-31/functions/\(remote.functionName)/invocations"
        let authority = remote.host.contains(":") ? "[\(remote.host)]:\(remote.port)" : "\(remote.host):\(remote.port)"
        var headers: [(name: String, value: String)] = [
            ("host", authority), ("content-type", "application/json"), ("x-amz-invocation-type", "RequestResponse"),
        ]
        if let signer {
            let hash = SigV4Signer.hex(SigV4Signer.sha256(invocation.payload))
            headers.append(("x-amz-date", Self.amzDate()))
            headers.append(("x-amz-content-sha256", hash))
            if let token = signer.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
            let authorization = signer.authorization(
                method: "POST", path: path, headers: headers, payloadHash: hash, amzDate: headers[3].value)
            headers.append(("authorization", authorization))
        }
        var request = "POST \(path) HTTP/1.1\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "content-length: \(invocation.payload.count)\r\n\r\n"
        var bytes = Array(request.utf8)
        bytes.append(contentsOf: invocation.payload)
        guard writeAll(connection, bytes) else {
            close(connection)
            connection = -1
            return fresh ? .failed("could not send to \(remote.host):\(remote.port)") : nil
        }
        let answer = readResponse(connection)
        guard case .answer(let status, let functionError, let body, let keepAlive) = answer else {
            close(connection)
            connection = -1
            if case .closedBeforeAnswer = answer, !fresh { return nil }
            if case .timedOut = answer { return .timedOut }
            return .failed("no valid answer from \(remote.host):\(remote.port)")
        }
        if !keepAlive {
            close(connection)
            connection = -1
        }
        switch status {
        case 200 where functionError: return .functionError(body)
        case 200: return .success(body)
        case 429: return .throttled
        default:
            return .failed("the Invoke API answered \(status): \(String(decoding: body.prefix(500), as: UTF8.self))")
        }
    }

    private func connect(timeoutSeconds: Int) -> Int32? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(remote.host, String(remote.port), &hints, &result) == 0, let info = result else { return nil }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        return bytes.withUnsafeBytes { p in
            while offset < p.count {
                let n = send(fd, p.baseAddress! + offset, p.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    private enum Answer {
        /// Status, whether `X-Amz-Function-Error` was set, the body, keep-alive.
        case answer(Int, Bool, [UInt8], Bool)
        /// The connection ended before a byte of an answer.
        case closedBeforeAnswer
        /// Not valid HTTP/1.1 with a Content-Length (or close-delimited) body.
        case invalid
        /// Nothing within the function's timeout.
        case timedOut
    }

    private func readResponse(_ fd: Int32) -> Answer {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var limits = tp_parse_limits(max_request_line: 8192, max_head_bytes: 65536)
        while true {
            var head = tp_response_head()
            var headLength = 0
            // The head's slices point into the buffer: read them while it is borrowed.
            var functionError = false
            let result = buffer.withUnsafeBufferPointer { b -> tp_parse_result in
                let r = tp_http1_parse_response(b.baseAddress, b.count, &limits, &head, &headLength)
                if r == TP_PARSE_DONE { functionError = Self.hasFunctionError(&head) }
                return r
            }
            if result == TP_PARSE_ERROR || head.chunked != 0 && result == TP_PARSE_DONE { return .invalid }
            if result == TP_PARSE_DONE {
                let status = Int(head.status)
                let keepAlive = head.keep_alive != 0 && head.content_length >= 0
                let length = Int(head.content_length)
                while length >= 0 && buffer.count < headLength + length || length < 0 {
                    let n = recv(fd, &chunk, chunk.count, 0)
                    if n <= 0 {
                        if length < 0 { break }
                        return .invalid
                    }
                    buffer.append(contentsOf: chunk[0..<n])
                }
                let end = length >= 0 ? headLength + length : buffer.count
                return .answer(status, functionError, Array(buffer[headLength..<end]), keepAlive)
            }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return .timedOut }
            if n <= 0 { return buffer.isEmpty ? .closedBeforeAnswer : .invalid }
            buffer.append(contentsOf: chunk[0..<n])
            if buffer.count > 64 << 20 { return .invalid }
        }
    }

    /// Whether the head carries `X-Amz-Function-Error` (the function raised).
    private static func hasFunctionError(_ head: inout tp_response_head) -> Bool {
        let count = Int(head.header_count)
        return withUnsafePointer(to: &head.headers) { tuple in
            tuple.withMemoryRebound(to: tp_header.self, capacity: count) { fields in
                (0..<count).contains { i in
                    let name = UnsafeRawBufferPointer(start: fields[i].name.ptr, count: Int(fields[i].name.len))
                    return String(decoding: name, as: UTF8.self).lowercased() == "x-amz-function-error"
                }
            }
        }
    }

    /// `YYYYMMDDTHHMMSSZ` now.
    private static func amzDate() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var text = [CChar](repeating: 0, count: 32)
        strftime(&text, text.count, "%Y%m%dT%H%M%SZ", &parts)
        return String(cString: text)
    }
}
