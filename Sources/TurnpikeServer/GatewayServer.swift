import CTurnpikeShim
import Synchronization
import TurnpikeConfig
import TurnpikeGateway

#if canImport(Glibc)
import Glibc
#endif

/// A startup or runtime failure with a message for the operator.
public struct ServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ message: String) { description = message }
}

/// The running gateway: loads and compiles configuration, starts one worker per core,
/// and handles signals — SIGHUP reloads, SIGTERM/SIGINT drain and exit.
public final class GatewayServer: @unchecked Sendable {
    let configPath: String
    private let workerCount: Int
    private let registry = EndpointRegistry()
    private let stateRegistry: SharedStateRegistry
    private var workers: [WorkerRuntime] = []
    private let current: Mutex<GatewaySnapshot>
    /// Serializes reloads; true once the server drains, after which a reload (from the
    /// admin endpoint, SIGHUP or the certificate watcher) would post to stopped workers.
    private let reloadLock = Mutex<Bool>(false)
    private let generation = Mutex<Int>(1)
    /// Access log sinks by destination (the global one and stages' own), opened off the
    /// loops at start and on reload.
    private let sinks = Mutex<[String: AccessLogSink]>([:])
    /// Upstream TLS clients by what they were built from; built off the loops at start and
    /// on reload, kept while the process runs (a handful at most).
    private let upstreamTLS = Mutex<[String: UpstreamTLSClient]>([:])
    private let listeners: [Listener]
    /// Lambda functions: local process pools and remote invokers; a reload adopts the new
    /// set (set once in `run`, before the workers start).
    private(set) var functions: FunctionHost?

    /// Loads and validates the configuration; throws with every problem found.
    public init(configPath: String, workers: Int?) throws {
        self.configPath = configPath
        let config = try ConfigLoader.load(path: configPath)
        stateRegistry = SharedStateRegistry(log: { line in
            let text = "turnpike: \(line)\n"
            _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
        })
        let snapshot = try GatewaySnapshot(
            config: config, registry: registry, generation: 1, access: stateRegistry,
            nowEpochSeconds: Int64(time(nil)))
        current = Mutex(snapshot)
        listeners = config.listeners
        workerCount = max(1, workers ?? config.settings.workers ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        try prepareAccessLogs(config)
    }

    public var snapshot: GatewaySnapshot { current.withLock { $0 } }

    /// Starts the workers and blocks until a SIGTERM/SIGINT drain completes.
    public func run() throws {
        // Signals are taken by this thread alone (sigwait); workers inherit the mask.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &set, nil)

        let snapshot = self.snapshot
        let settings = snapshot.config.settings
        var options = tp_worker_options()
        options.limits.max_request_line = UInt32(settings.maxRequestLineBytes)
        options.limits.max_head_bytes = UInt32(settings.maxHeaderBytes)
        options.max_body_bytes = UInt64(settings.maxRequestBodyBytes)
        options.keepalive_timeout_ms = UInt32(settings.keepAliveTimeoutSeconds * 1000)
        options.header_timeout_ms = UInt32(settings.headerTimeoutSeconds * 1000)
        options.upstream_idle_timeout_ms = UInt32(settings.upstreamIdleTimeoutSeconds * 1000)
        options.h2_max_concurrent_streams = UInt32(settings.http2.maxConcurrentStreams)
        options.h2_initial_window_size = UInt32(settings.http2.initialWindowSize)

        let tls = try TLSContext.buildAll(snapshot.config)
        try prepareUpstreamTLS(snapshot)
        functions = try FunctionHost(
            functions: snapshot.config.functions,
            deliver: { [unowned self] ticket, outcome, receivedNs in
                self.worker(ticket.worker)?.post(.lambdaFinished(token: ticket.token, outcome: outcome, receivedNs: receivedNs))
            },
            log: { [unowned self] line in self.log(line) })
        for i in 0..<workerCount {
            let w = WorkerRuntime(index: i, server: self, snapshot: snapshot)
            var mine: [(index: Int, listener: Listener)] = []
            for (li, l) in listeners.enumerated() where !l.admin || i == 0 { mine.append((li, l)) }
            var o = options
            o.tick_ms = i == 0 ? 250 : 0
            try w.start(listeners: mine, tls: tls, options: o)
            workers.append(w)
        }
        try functions?.start()
        let addresses = listeners.map {
            "\($0.admin ? "admin " : "")\($0.protocolType == .https ? "https" : "http")://\($0.host.contains(":") ? "[\($0.host)]" : $0.host):\($0.port)"
        }
        log("serving \(snapshot.config.apis.count) api(s) on \(addresses.joined(separator: ", ")) with \(workerCount) worker(s)")
        CertificateWatcher(server: self).start()

        while true {
            var sig: Int32 = 0
            sigwait(&set, &sig)
            if sig == SIGHUP {
                let (status, body) = reload()
                log(status == 200 ? "reloaded on SIGHUP" : "reload on SIGHUP refused: \(body)")
                continue
            }
            let timeout = UInt32(self.snapshot.config.settings.drainTimeoutSeconds * 1000)
            log("draining (up to \(timeout / 1000) s) on \(sig == SIGTERM ? "SIGTERM" : "SIGINT")")
            reloadLock.withLock { $0 = true }
            for w in workers { w.post(.drain(timeoutMillis: timeout)) }
            for w in workers { w.join() }
            functions?.stop()
            stateRegistry.close()
            for sink in sinks.withLock({ Array($0.values) }) { sink.flush() }
            log("stopped")
            return
        }
    }

    /// Re-reads the file; on success every worker adopts the new snapshot. Returns an
    /// HTTP status and a JSON body for the admin endpoint.
    func reload() -> (Int, String) {
        reloadLock.withLock { stopping in
            if stopping { return (503, errorBody("the gateway is shutting down", details: "")) }
            let config: GatewayConfig
            do throws(ConfigError) {
                config = try ConfigLoader.load(path: configPath)
            } catch {
                return (400, errorBody("configuration rejected; the previous one keeps serving", details: error.description))
            }
            let next = generation.withLock { g -> Int in g += 1; return g }
            let snapshot: GatewaySnapshot
            do throws(SnapshotError) {
                snapshot = try GatewaySnapshot(
                    config: config, registry: registry, generation: next, access: stateRegistry,
                    nowEpochSeconds: Int64(time(nil)))
            } catch {
                return (400, errorBody("configuration rejected; the previous one keeps serving", details: error.description))
            }
            var notes: [String] = []
            if config.listeners.map({ ($0.host, $0.port, $0.protocolType, $0.admin) }).elementsEqual(
                listeners.map({ ($0.host, $0.port, $0.protocolType, $0.admin) }), by: ==) == false
            {
                notes.append("listener changes take effect on restart")
            }
            // Certificates reload with the configuration; a certificate that does not load
            // refuses the whole reload.
            let tls: [Int: TLSContext]
            do throws(ServerError) {
                tls = try TLSContext.buildAll(config)
                try prepareUpstreamTLS(snapshot)
                try prepareAccessLogs(config)
            } catch {
                return (400, errorBody("configuration rejected; the previous one keeps serving", details: error.description))
            }
            functions?.adopt(config.functions)
            current.withLock { $0 = snapshot }
            for w in workers {
                w.post(.adopt(snapshot))
                // Listener indices only line up while the listeners are unchanged.
                if !tls.isEmpty && notes.isEmpty { w.post(.adoptTLS(tls)) }
            }
            stateRegistry.retire(keeping: snapshot.access.authorizers)
            let note = notes.isEmpty ? "" : ",\"notes\":[\(notes.map { AccessLogFormatter.jsonString($0) }.joined(separator: ","))]"
            return (200, "{\"message\":\"reloaded\",\"generation\":\(next)\(note)}")
        }
    }

    /// Runs `reload` on its own thread (never on a loop) and reports back.
    func reloadInBackground(_ done: @escaping @Sendable (Int, String) -> Void) {
        let box = Unmanaged.passRetained(ReloadJob(server: self, done: done)).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { arg in
            let job = Unmanaged<ReloadJob>.fromOpaque(arg!).takeRetainedValue()
            let (status, body) = job.server.reload()
            job.done(status, body)
            return nil
        }, box)
        pthread_detach(thread)
    }

    /// Builds the TLS clients a configuration's HTTPS target groups need; throws when a CA
    /// bundle or client certificate does not load.
    func prepareUpstreamTLS(_ snapshot: GatewaySnapshot) throws(ServerError) {
        for group in snapshot.targetGroups {
            guard let spec = group.tls else { continue }
            for e in group.endpoints {
                let key = UpstreamTLSClient.key(spec, host: e.endpoint.host)
                if upstreamTLS.withLock({ $0[key] }) != nil { continue }
                let client = try UpstreamTLSClient(spec, host: e.endpoint.host)
                upstreamTLS.withLock { $0[key] = $0[key] ?? client }
            }
        }
    }

    /// Loop thread: the client built by prepareUpstreamTLS (a lookup under a short lock,
    /// once per group and endpoint per snapshot).
    func upstreamTLSClient(_ spec: UpstreamTLS, host: String) -> UpstreamTLSClient? {
        upstreamTLS.withLock { $0[UpstreamTLSClient.key(spec, host: host)] }
    }

    /// Opens the sinks a configuration's access logs write to.
    func prepareAccessLogs(_ config: GatewayConfig) throws(ServerError) {
        var wanted = [config.settings.accessLog]
        for api in config.apis { for stage in api.stages { if let l = stage.accessLog { wanted.append(l) } } }
        for settings in wanted where settings.enabled {
            let key = String(describing: settings.destination)
            if sinks.withLock({ $0[key] }) != nil { continue }
            let sink = try AccessLogSink(settings: settings)
            sinks.withLock { $0[key] = $0[key] ?? sink }
        }
    }

    func accessLogSink(_ settings: AccessLogSettings) -> AccessLogSink? {
        sinks.withLock { $0[String(describing: settings.destination)] }
    }

    func worker(_ index: Int) -> WorkerRuntime? {
        index < workers.count ? workers[index] : nil
    }

    /// `DELETE /admin/cache?apiId=ID&stage=NAME` (FlushStageCache); both optional: every
    /// matching stage's cache is emptied.
    func flushCache(query: String, snapshot: GatewaySnapshot) -> (Int, String) {
        let params = Self.adminParameters(query)
        var flushed: [String] = []
        for api in snapshot.apis where params["apiId"] == nil || params["apiId"] == api.apiId {
            for stage in api.stages where params["stage"] == nil || params["stage"] == stage.name {
                guard let cache = stage.cache else { continue }
                cache.cache.flush()
                flushed.append(AccessLogFormatter.jsonString("\(api.apiId)/\(stage.name)"))
            }
        }
        if flushed.isEmpty { return (404, "{\"message\":\"no stage cache matches\"}") }
        return (200, "{\"message\":\"flushed\",\"stages\":[\(flushed.joined(separator: ","))]}")
    }

    func healthReport(snapshot: GatewaySnapshot) -> String {
        var groups: [String] = []
        let now = tp_now_ns()
        for g in snapshot.targetGroups {
            let endpoints = g.endpoints.map { e in
                "{\"endpoint\":\"\(e.endpoint.host):\(e.endpoint.port)\",\"healthy\":\(e.isHealthy),\"ejected\":\(e.isEjected(nowNs: now))}"
            }
            groups.append("{\"name\":\(AccessLogFormatter.jsonString(g.name)),\"endpoints\":[\(endpoints.joined(separator: ","))]}")
        }
        var caches: [String] = []
        for api in snapshot.apis {
            for stage in api.stages {
                guard let c = stage.cache else { continue }
                let s = c.cache.statistics
                caches.append("{\"apiId\":\(AccessLogFormatter.jsonString(api.apiId)),\"stage\":\(AccessLogFormatter.jsonString(stage.name)),\"CacheHitCount\":\(s.hits),\"CacheMissCount\":\(s.misses),\"coalesced\":\(s.coalescedWaits),\"entries\":\(s.entries),\"bytes\":\(s.bytes),\"capacityBytes\":\(c.cache.capacityBytes)}")
            }
        }
        return "{\"status\":\"ok\",\"generation\":\(snapshot.generation),\"workers\":\(workerCount),\"targetGroups\":[\(groups.joined(separator: ","))],\"caches\":[\(caches.joined(separator: ","))]}"
    }

    private func errorBody(_ message: String, details: String) -> String {
        let lines = details.split(separator: "\n").map { AccessLogFormatter.jsonString(String($0)) }
        return "{\"message\":\(AccessLogFormatter.jsonString(message)),\"errors\":[\(lines.joined(separator: ","))]}"
    }

    /// Operator messages go to stderr, one line each.
    func log(_ message: String) {
        let line = "turnpike: \(message)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}

private final class ReloadJob {
    let server: GatewayServer
    let done: @Sendable (Int, String) -> Void
    init(server: GatewayServer, done: @escaping @Sendable (Int, String) -> Void) {
        self.server = server
        self.done = done
    }
}


extension GatewayServer {
    /// Compiles a configuration the way serving would, to report what validation alone cannot.
    public static func compile(_ config: GatewayConfig) throws -> GatewaySnapshot {
        let access = SharedStateRegistry(opensQuotaStore: false)
        defer { access.close() }
        return try GatewaySnapshot(config: config, registry: EndpointRegistry(), generation: 1, access: access)
    }

    /// `GET /admin/usage?usagePlanId=&keyId=&startDate=&endDate=`, shaped like API
    /// Gateway's GetUsage. `usagePlanId` may be left out when the key is in one plan.
    func usage(query: String, snapshot: GatewaySnapshot) -> (Int, String) {
        let params = Self.adminParameters(query)
        let keyId = params["keyId"]
        let start = params["startDate"] ?? params["start"]
        let end = params["endDate"] ?? params["end"]
        guard let start, let end else {
            return (400, "{\"message\":\"startDate and endDate (YYYY-MM-DD) are required\"}")
        }
        var planId = params["usagePlanId"]
        if planId == nil, let keyId {
            let containing = snapshot.access.plans.plans.filter { $0.keyIds.contains(keyId) }
            if containing.count == 1 { planId = containing[0].id }
        }
        guard let planId else {
            return (400, "{\"message\":\"usagePlanId is required (or a keyId that is in exactly one usage plan)\"}")
        }
        do {
            let report = try snapshot.access.plans.usage(planId: planId, keyId: keyId, startDate: start, endDate: end)
            return (200, report.json())
        } catch {
            return (error.status, "{\"message\":\(AccessLogFormatter.jsonString(error.message))}")
        }
    }
}

extension GatewayServer {
    /// An admin request's query parameters, decoded (the last of a repeated name wins).
    static func adminParameters(_ query: String) -> [String: String] {
        var params: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            params[String(parts[0])] = parts.count > 1 ? String(parts[1]).removingPercentEncodingSimple : ""
        }
        return params
    }
}

extension String {
    /// Percent-decoding for admin query parameters (no Foundation on this path).
    var removingPercentEncodingSimple: String {
        var bytes: [UInt8] = []
        var it = Array(utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b == UInt8(ascii: "+") ? 32 : b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
