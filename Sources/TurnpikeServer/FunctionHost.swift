import CTurnpikeShim
import Synchronization
import TurnpikeConfig
import TurnpikeLambda

#if canImport(Glibc)
import Glibc
#endif

/// Runs the configured local functions: for each, a pool of processes started with
/// `AWS_LAMBDA_RUNTIME_API` pointing at a Runtime API endpoint this host serves on a
/// loopback port of the process's own (so every request names its process). One thread
/// does all of it — sockets, spawning, reaping, deadlines — with blocking-free poll();
/// the workers hand invocations in through `submit` and get outcomes back through
/// `deliver` (which posts to the owning worker's loop).
final class FunctionHost: @unchecked Sendable {
    private enum Message {
        case invoke(function: String, Invocation)
        /// The local functions of a reloaded configuration.
        case adopt([LambdaFunction])
    }

    /// What other threads may ask about: the local functions' names, the remote invokers.
    private struct Directory {
        var local: Set<String> = []
        var remotes: [String: RemoteInvoker] = [:]
    }

    private let inbox = Mutex<[Message]>([])
    private let directory = Mutex(Directory())
    private let stopping = Atomic<Bool>(false)
    private var wakeRead: Int32 = -1
    private var wakeWrite: Int32 = -1
    /// Host thread only: the pools serving, and pools a reload replaced or removed, which
    /// finish their running invocations and then shut down.
    private var pools: [String: FunctionPool] = [:]
    private var retiring: [FunctionPool] = []
    /// Host thread: what runtime connections and the wake pipe are read into.
    private var readBuffer = [UInt8](repeating: 0, count: 65536)
    private var thread: pthread_t?
    /// The outcome for a ticket, and when the function's answer arrived (monotonic ns).
    private let deliver: @Sendable (InvocationTicket, InvocationOutcome, UInt64) -> Void
    private let log: @Sendable (String) -> Void
    /// Gateway overhead samples in nanoseconds, kept for `/admin/lambda` (bounded).
    let timings = Mutex<LambdaTimings>(LambdaTimings())

    init(
        functions: [LambdaFunction],
        deliver: @escaping @Sendable (InvocationTicket, InvocationOutcome, UInt64) -> Void,
        log: @escaping @Sendable (String) -> Void
    ) throws(ServerError) {
        self.deliver = deliver
        self.log = log
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ServerError("functions: could not create a pipe") }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        _ = fcntl(wakeRead, F_SETFL, fcntl(wakeRead, F_GETFL) | O_NONBLOCK)
        _ = fcntl(wakeWrite, F_SETFL, fcntl(wakeWrite, F_GETFL) | O_NONBLOCK)
        var d = Directory()
        for function in functions {
            if let remote = function.remote {
                d.remotes[function.name] = RemoteInvoker(function: function, remote: remote, deliver: deliver, log: log)
            } else {
                pools[function.name] = FunctionPool(function: function)
                d.local.insert(function.name)
            }
        }
        directory.withLock { $0 = d }
    }

    /// Any thread.
    func knows(_ function: String) -> Bool {
        directory.withLock { $0.local.contains(function) || $0.remotes[function] != nil }
    }

    /// Any thread: queue an invocation; its outcome comes back through `deliver`.
    func submit(function: String, _ invocation: Invocation) {
        if let remote = directory.withLock({ $0.remotes[function] }) {
            remote.submit(invocation)
            return
        }
        post(.invoke(function: function, invocation))
    }

    private func post(_ message: Message) {
        inbox.withLock { $0.append(message) }
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    /// Any thread (the reload): functions that are new or changed start serving, removed or
    /// changed ones finish what they run and stop. Remote invokers are swapped here; local
    /// pools on the host thread, in order with the invocations.
    func adopt(_ functions: [LambdaFunction]) {
        var retired: [RemoteInvoker] = []
        var started: [RemoteInvoker] = []
        directory.withLock { d in
            var remotes: [String: RemoteInvoker] = [:]
            for function in functions {
                guard let remote = function.remote else { continue }
                if let current = d.remotes[function.name], current.function == function {
                    remotes[function.name] = current
                } else {
                    let invoker = RemoteInvoker(function: function, remote: remote, deliver: deliver, log: log)
                    remotes[function.name] = invoker
                    started.append(invoker)
                }
            }
            retired = d.remotes.filter { remotes[$0.key] !== $0.value }.map(\.value)
            d.remotes = remotes
            d.local = Set(functions.filter { $0.remote == nil }.map(\.name))
        }
        for invoker in started { invoker.start() }
        post(.adopt(functions.filter { $0.remote == nil }))
        for invoker in retired { invoker.stop() }
    }

    /// Opens the Runtime API listeners and starts the thread.
    func start() throws(ServerError) {
        for pool in pools.values { try pool.open() }
        for remote in directory.withLock({ Array($0.remotes.values) }) { remote.start() }
        let box = Unmanaged.passRetained(self)
        var t = pthread_t()
        pthread_create(&t, nil, { arg in
            let host = Unmanaged<FunctionHost>.fromOpaque(arg!).takeRetainedValue()
            host.run()
            return nil
        }, box.toOpaque())
        thread = t
    }

    /// Kills every function process and ends the thread.
    func stop() {
        stopping.store(true, ordering: .releasing)
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
        if let thread { pthread_join(thread, nil) }
        thread = nil
        for remote in directory.withLock({ Array($0.remotes.values) }) { remote.stop() }
    }

    // MARK: - The host thread

    private func run() {
        var fds: [pollfd] = []
        var owners: [(pool: FunctionPool, conn: RuntimeConnection?, slot: Int)] = []
        while !stopping.load(ordering: .acquiring) {
            fds.removeAll(keepingCapacity: true)
            owners.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
            let all = Array(pools.values) + retiring
            for pool in all {
                for (i, listener) in pool.listeners.enumerated() {
                    fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
                    owners.append((pool, nil, i))
                }
                for conn in pool.connections {
                    fds.append(pollfd(fd: conn.fd, events: Int16(POLLIN), revents: 0))
                    owners.append((pool, conn, conn.slot))
                }
            }
            // Idle with no functions: nothing to reap or time out until a message comes.
            _ = poll(&fds, nfds_t(fds.count), all.isEmpty ? -1 : 10)
            if fds[0].revents != 0 {
                while read(wakeRead, &readBuffer, 256) > 0 {}
            }
            let messages = inbox.withLock { m -> [Message] in
                let all = m
                m.removeAll()
                return all
            }
            for message in messages {
                switch message {
                case .invoke(let function, let invocation):
                    guard let pool = pools[function] else {
                        deliver(invocation.ticket, .failed("no function \(function)"), tp_now_ns())
                        continue
                    }
                    perform(pool.scheduler.submit(invocation), pool)
                case .adopt(let functions):
                    adoptLocal(functions)
                }
            }
            for (i, owner) in owners.enumerated() where fds[i + 1].revents != 0 {
                if let conn = owner.conn {
                    serve(conn, owner.pool)
                } else if owner.pool.listeners.indices.contains(owner.slot) {
                    accept(owner.pool, slot: owner.slot)
                }
            }
            let now = tp_now_ns()
            for pool in all {
                reap(pool)
                perform(pool.scheduler.tick(nowNs: now), pool)
            }
            retireIdle()
        }
        for pool in Array(pools.values) + retiring { pool.shutdown() }
    }

    /// New pools for new or changed functions; replaced and removed ones retire.
    private func adoptLocal(_ functions: [LambdaFunction]) {
        var next: [String: FunctionPool] = [:]
        for function in functions {
            if let current = pools[function.name], current.function == function {
                next[function.name] = current
                continue
            }
            let pool = FunctionPool(function: function)
            do throws(ServerError) {
                try pool.open()
                next[function.name] = pool
            } catch {
                log("function \(function.name): \(error.description)")
            }
        }
        for (name, pool) in pools where next[name] !== pool {
            // Invocations still queued for a cold start go to the replacement, or fail.
            for invocation in pool.scheduler.drainQueue() {
                if let replacement = next[name] {
                    perform(replacement.scheduler.submit(invocation), replacement)
                } else {
                    deliver(invocation.ticket, .failed("function \(name) was removed by a reload"), tp_now_ns())
                }
            }
            pool.closeListeners()
            retiring.append(pool)
        }
        pools = next
    }

    /// Retiring pools: processes not running an invocation are killed; a pool whose
    /// processes are all gone is shut down.
    private func retireIdle() {
        guard !retiring.isEmpty else { return }
        retiring.removeAll { pool in
            for slot in pool.pids.indices where pool.pids[slot] > 0 {
                if case .busy = pool.scheduler.slots[slot] { continue }
                if pool.scheduler.slots[slot] == .killing { continue }
                pool.kill(slot: slot)
                pool.scheduler.markKilling(slot: slot)
            }
            guard pool.pids.allSatisfy({ $0 == 0 }) else { return false }
            pool.shutdown()
            return true
        }
    }

    private func accept(_ pool: FunctionPool, slot: Int) {
        let fd = Glibc.accept(pool.listeners[slot], nil, nil)
        guard fd >= 0 else { return }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        pool.connections.append(RuntimeConnection(fd: fd, slot: slot))
    }

    /// Reads what arrived on a runtime connection and answers every complete request.
    private func serve(_ conn: RuntimeConnection, _ pool: FunctionPool) {
        let n = read(conn.fd, &readBuffer, readBuffer.count)
        if n <= 0 {
            pool.close(conn)
            return
        }
        conn.buffer.append(contentsOf: readBuffer[0..<n])
        while let request = conn.nextRequest() {
            switch request {
            case .invalid:
                conn.send(status: 400, body: Array(#"{"errorMessage":"bad request","errorType":"InvalidRequest"}"#.utf8))
                pool.close(conn)
                return
            case .continueExpected:
                conn.sendContinue()
                return
            case .complete(let method, let path, let body):
                handle(RuntimeAPIRoute.parse(method: method, path: path), body: body, conn, pool)
            }
        }
    }

    private func handle(_ route: RuntimeAPIRoute, body: [UInt8], _ conn: RuntimeConnection, _ pool: FunctionPool) {
        let accepted = Array(#"{"status":"OK"}"#.utf8)
        switch route {
        case .next:
            conn.waitingForNext = true
            perform(pool.scheduler.nextRequested(slot: conn.slot), pool)
        case .response(let id), .error(let id):
            let outcome: InvocationOutcome = route == .response(requestId: id) ? .success(body) : .functionError(body)
            if let actions = pool.scheduler.finished(slot: conn.slot, requestId: id, outcome: outcome) {
                conn.send(status: 202, body: accepted)
                perform(actions, pool)
            } else {
                conn.send(status: 400, body: Array(#"{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}"#.utf8))
            }
        case .initError:
            log("function \(pool.function.name): init error: \(String(decoding: body.prefix(2000), as: UTF8.self))")
            conn.send(status: 202, body: accepted)
            perform(pool.scheduler.initFailed(slot: conn.slot, message: "the function failed to initialise"), pool)
        case .unknown:
            conn.send(status: 404, body: Array(#"{"errorMessage":"not found","errorType":"NotFound"}"#.utf8))
        }
    }

    private func perform(_ actions: [PoolAction], _ pool: FunctionPool) {
        for action in actions {
            switch action {
            case .spawn(let slot):
                if let problem = pool.spawn(slot: slot) {
                    log("function \(pool.function.name): \(problem)")
                    perform(pool.scheduler.processExited(slot: slot, status: problem), pool)
                }
            case .deliver(let slot, let invocation):
                guard let conn = pool.connections.first(where: { $0.slot == slot && $0.waitingForNext }) else {
                    // The process's connection is gone: it is killed, and the exit fails the invocation.
                    pool.kill(slot: slot)
                    continue
                }
                conn.waitingForNext = false
                conn.deliver(invocation, functionArn: pool.functionArn)
                let delivered = tp_now_ns()
                timings.withLock { $0.record(inbound: delivered &- invocation.submittedNs) }
            case .kill(let slot):
                log("function \(pool.function.name): an invocation ran past \(pool.function.timeoutSeconds) s; its process is killed")
                pool.kill(slot: slot)
            case .complete(let ticket, let outcome):
                deliver(ticket, outcome, tp_now_ns())
            }
        }
    }

    private func reap(_ pool: FunctionPool) {
        for slot in pool.pids.indices {
            let pid = pool.pids[slot]
            guard pid > 0 else { continue }
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            guard r == pid || (r < 0 && errno == ECHILD) else { continue }
            pool.pids[slot] = 0
            for conn in pool.connections where conn.slot == slot { pool.close(conn) }
            let how = (status & 0x7F) == 0 ? "exit status \((status >> 8) & 0xFF)" : "signal \(status & 0x7F)"
            perform(pool.scheduler.processExited(slot: slot, status: how), pool)
        }
    }
}

/// Where gateway overhead around the function goes, in nanoseconds: request in → event on
/// `/next` (inbound) and `/response` in → response out (outbound). The last 10,000 each,
/// in rings (recording costs a store, not a shift).
struct LambdaTimings {
    private static let capacity = 10_000
    private var inbound: [UInt64] = []
    private var outbound: [UInt64] = []
    private var inboundNext = 0
    private var outboundNext = 0

    mutating func record(inbound sample: UInt64) {
        Self.store(sample, in: &inbound, at: &inboundNext)
    }

    mutating func record(outbound sample: UInt64) {
        Self.store(sample, in: &outbound, at: &outboundNext)
    }

    private static func store(_ sample: UInt64, in ring: inout [UInt64], at next: inout Int) {
        if ring.count < capacity { ring.append(sample) } else { ring[next] = sample }
        next = (next + 1) % capacity
    }

    /// `{"inboundP50Us":…,"inboundP99Us":…,"outboundP50Us":…,"outboundP99Us":…,"samples":…}`.
    var json: String {
        func percentile(_ values: [UInt64], _ p: Double) -> String {
            guard !values.isEmpty else { return "null" }
            let sorted = values.sorted()
            let i = min(sorted.count - 1, Int(Double(sorted.count - 1) * p + 0.5))
            return String(Double(sorted[i] / 100) / 10)
        }
        return "{\"inboundP50Us\":\(percentile(inbound, 0.5)),\"inboundP99Us\":\(percentile(inbound, 0.99)),"
            + "\"outboundP50Us\":\(percentile(outbound, 0.5)),\"outboundP99Us\":\(percentile(outbound, 0.99)),"
            + "\"samples\":\(min(inbound.count, outbound.count))}"
    }
}
