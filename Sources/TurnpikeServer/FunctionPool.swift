import CTurnpikeShim
import TurnpikeConfig
import TurnpikeLambda

#if canImport(Glibc)
import Glibc
#endif

/// One local function's processes: a loopback Runtime API listener per slot, the slot's
/// process id, the runtime connections, and the scheduler deciding what runs where.
/// Touched only by the FunctionHost thread.
final class FunctionPool {
    let function: LambdaFunction
    let functionArn: String
    var scheduler: FunctionScheduler
    /// One listening socket per slot; its process is told this port.
    private(set) var listeners: [Int32] = []
    private var ports: [UInt16] = []
    /// 0: no process in the slot.
    var pids: [pid_t]
    var connections: [RuntimeConnection] = []

    init(function: LambdaFunction) {
        self.function = function
        functionArn = "arn:aws:lambda:us-east-1:000000000000:function:\(function.name)"
        scheduler = FunctionScheduler(concurrency: function.reservedConcurrency)
        pids = Array(repeating: 0, count: function.reservedConcurrency)
    }

    /// The Runtime API listeners, one per slot (on ephemeral ports: opened after the
    /// gateway's own listeners, so they never take a port meant for those).
    func open() throws(ServerError) {
        for _ in 0..<function.reservedConcurrency {
            let (fd, port) = try Self.listen()
            listeners.append(fd)
            ports.append(port)
        }
    }

    private static func listen() throws(ServerError) -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError("functions: no socket for the Runtime API") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && Glibc.listen(fd, 16) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else {
            Glibc.close(fd)
            throw ServerError("functions: could not listen on 127.0.0.1 for the Runtime API")
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return (fd, UInt16(bigEndian: addr.sin_port))
    }

    /// Starts the slot's process; a message when it could not be started.
    func spawn(slot: Int) -> String? {
        var env: [String: String] = [:]
        var i = 0
        while let entry = environ[i] {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") { env[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
            i += 1
        }
        let lambdaVariables: [String: String] = [
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:\(ports[slot])",
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(function.memorySize),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/\(function.name)",
            "AWS_LAMBDA_LOG_STREAM_NAME": "turnpike/\(slot)",
            "AWS_REGION": env["AWS_REGION"] ?? "us-east-1",
            "AWS_DEFAULT_REGION": env["AWS_DEFAULT_REGION"] ?? "us-east-1",
            "LAMBDA_TASK_ROOT": function.workingDirectory,
            "_HANDLER": function.command.last ?? "",
            "TZ": ":UTC",
        ]
        env.merge(lambdaVariables) { _, new in new }
        env.merge(function.environment) { _, new in new }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The gateway blocks its signals and ignores SIGPIPE; the function must not inherit either.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGHUP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        // The shell enters the working directory and execs the command (so the pid is the function's).
        let words = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", function.workingDirectory] + function.command
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let r = posix_spawn(&pid, argv[0]!, &actions, &attributes, argv, envp)
        guard r == 0 else {
            return "could not start \(function.command.joined(separator: " ")) in \(function.workingDirectory): \(String(cString: strerror(r)))"
        }
        pids[slot] = pid
        return nil
    }

    /// Kills the slot's process group; reaping reports the exit to the scheduler.
    func kill(slot: Int) {
        for conn in connections where conn.slot == slot { close(conn) }
        if pids[slot] > 0 { Glibc.kill(-pids[slot], SIGKILL) }
    }

    func close(_ conn: RuntimeConnection) {
        guard let i = connections.firstIndex(where: { $0 === conn }) else { return }
        Glibc.close(conn.fd)
        connections.remove(at: i)
    }

    /// No new runtime connections (the pool retires); existing ones keep working.
    func closeListeners() {
        for fd in listeners { Glibc.close(fd) }
        listeners.removeAll()
    }

    /// Every process killed and reaped, every socket closed.
    func shutdown() {
        for slot in pids.indices where pids[slot] > 0 {
            Glibc.kill(-pids[slot], SIGKILL)
            var status: Int32 = 0
            waitpid(pids[slot], &status, 0)
            pids[slot] = 0
        }
        for conn in connections { Glibc.close(conn.fd) }
        connections.removeAll()
        for fd in listeners { Glibc.close(fd) }
        listeners.removeAll()
    }
}

/// One keep-alive connection from a function process to the Runtime API.
final class RuntimeConnection {
    let fd: Int32
    let slot: Int
    var buffer: [UInt8] = []
    /// Its last request was `/next`, not answered yet.
    var waitingForNext = false
    private var continueSent = false

    init(fd: Int32, slot: Int) {
        self.fd = fd
        self.slot = slot
    }

    enum Request {
        case complete(method: String, path: String, body: [UInt8])
        /// The head asked for 100 Continue and the body has not come.
        case continueExpected
        case invalid
    }

    /// The next complete request in the buffer (consumed), or nil when more is needed.
    func nextRequest() -> Request? {
        guard !buffer.isEmpty else { return nil }
        var limits = tp_parse_limits(max_request_line: 8192, max_head_bytes: 65536)
        var head = tp_request_head()
        var headLength = 0
        var status: UInt16 = 0
        // The head's slices point into the buffer: read them while it is borrowed.
        func text(_ s: tp_slice) -> String {
            String(decoding: UnsafeRawBufferPointer(start: UnsafeRawPointer(s.ptr), count: Int(s.len)), as: UTF8.self)
        }
        var method = "", path = ""
        let result = buffer.withUnsafeBufferPointer { b -> tp_parse_result in
            let r = tp_http1_parse_request(b.baseAddress, b.count, &limits, &head, &headLength, &status)
            if r == TP_PARSE_DONE {
                method = text(head.method)
                path = text(head.path)
            }
            return r
        }
        switch result {
        case TP_PARSE_NEED_MORE: return buffer.count > 65536 ? .invalid : nil
        case TP_PARSE_ERROR: return .invalid
        default: break
        }
        guard head.chunked == 0 else { return .invalid }
        let length = max(0, Int(head.content_length))
        guard length <= 64 << 20 else { return .invalid }
        guard buffer.count >= headLength + length else {
            if head.expect_continue != 0 && !continueSent {
                continueSent = true
                return .continueExpected
            }
            return nil
        }
        let body = Array(buffer[headLength..<(headLength + length)])
        buffer.removeFirst(headLength + length)
        continueSent = false
        return .complete(method: method, path: path, body: body)
    }

    func sendContinue() {
        writeAll(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
    }

    func send(status: Int, body: [UInt8]) {
        let reason = status == 202 ? "Accepted" : status == 400 ? "Bad Request" : status == 404 ? "Not Found" : "OK"
        var out = Array("HTTP/1.1 \(status) \(reason)\r\ncontent-type: application/json\r\ncontent-length: \(body.count)\r\n\r\n".utf8)
        out.append(contentsOf: body)
        writeAll(out)
    }

    /// The answer to `/next`: the event and its context headers.
    func deliver(_ invocation: Invocation, functionArn: String) {
        var out = Array(("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + "lambda-runtime-aws-request-id: \(invocation.id)\r\n"
            + "lambda-runtime-deadline-ms: \(invocation.deadlineEpochMs)\r\n"
            + "lambda-runtime-invoked-function-arn: \(functionArn)\r\n"
            + "lambda-runtime-trace-id: Root=1-\(String(invocation.deadlineEpochMs / 1000, radix: 16))-\(invocation.id.replacingDashes);Parent=0000000000000000;Sampled=0\r\n"
            + "content-length: \(invocation.payload.count)\r\n\r\n").utf8)
        out.append(contentsOf: invocation.payload)
        writeAll(out)
    }

    /// Blocking write of a whole message (the peer is a local process reading its socket).
    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        bytes.withUnsafeBytes { p in
            while offset < p.count {
                let n = Glibc.send(fd, p.baseAddress! + offset, p.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

extension String {
    /// 24 hex digits for a trace id's last part.
    fileprivate var replacingDashes: String {
        String(filter { $0 != "-" }.prefix(24))
    }
}
