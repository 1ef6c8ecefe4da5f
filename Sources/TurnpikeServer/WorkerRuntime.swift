import CTurnpikeShim
import Synchronization
import TurnpikeAuth
import TurnpikeCache
import TurnpikeConfig
import TurnpikeGateway
import TurnpikeLambda

#if canImport(Glibc)
import Glibc
#endif

/// Messages other threads post to a worker's loop.
enum WorkerMessage: Sendable {
    case adopt(GatewaySnapshot)
    case drain(timeoutMillis: UInt32)
    case reloadFinished(slot: Int, status: Int, body: String)
    /// A cache fill another worker waited for finished: answer from `response`, or go
    /// upstream when it is nil (the fill failed or was not cacheable).
    case cacheFilled(tokens: [UInt64], response: CachedResponse?)
    /// New certificates for HTTPS listeners (by listener index), after a reload.
    case adoptTLS([Int: TLSContext])
    /// A Lambda invocation this worker started has ended (`receivedNs`: when the
    /// function's answer reached the gateway).
    case lambdaFinished(token: UInt64, outcome: InvocationOutcome, receivedNs: UInt64)
}

/// One worker: owns a shim worker (a uv_loop on its own thread) and everything the
/// request path touches on it — the snapshot, pipeline scratch, balancer, exchange
/// records. Only its loop thread touches these; other threads talk through `post`.
final class WorkerRuntime: @unchecked Sendable {
    let index: Int
    let server: GatewayServer
    private(set) var worker: OpaquePointer?
    private(set) var snapshot: GatewaySnapshot
    private var pipeline = PipelineState()
    private var ids: RequestIdGenerator
    private var exchanges = ExchangeTable()
    private let headerFields: UnsafeMutableBufferPointer<HeaderField>
    private var out: [UInt8] = []
    private var targets: [tp_upstream_target] = []
    private var targetKnown: [Bool] = []
    private let inbox = Mutex<[WorkerMessage]>([])
    private var clock = EpochClock()
    private var snapshotLogsAnything = false

    static func logsAnything(_ s: GatewaySnapshot) -> Bool {
        s.config.settings.accessLog.enabled || s.apis.contains { $0.stages.contains { $0.accessLog?.enabled == true } }
    }
    /// Operator warnings about failing integrations, at most `warningBudget` a second per
    /// worker so that a dead upstream cannot flood stderr.
    private var warningsThisSecond = 0
    private var warningSecond: UInt64 = 0
    private let warningBudget = 10
    let health: HealthChecker?

    init(index: Int, server: GatewayServer, snapshot: GatewaySnapshot) {
        self.index = index
        self.server = server
        self.snapshot = snapshot
        ids = RequestIdGenerator(worker: index, salt: UInt64.random(in: 0...UInt64.max))
        headerFields = .allocate(capacity: Int(TP_MAX_HEADERS))
        out.reserveCapacity(8192)
        health = index == 0 ? HealthChecker() : nil
        health?.adopt(snapshot)
        snapshotLogsAnything = Self.logsAnything(snapshot)
    }

    deinit { headerFields.deallocate() }

    /// Creates the shim worker and its listeners. Throws a message naming the listener.
    func start(
        listeners: [(index: Int, listener: Listener)], tls: [Int: TLSContext], options: tp_worker_options
    ) throws(ServerError) {
        var callbacks = tp_callbacks(
            on_request: onRequestThunk, on_upstream_head: onUpstreamHeadThunk,
            on_upstream_error: onUpstreamErrorThunk, on_exchange_end: onExchangeEndThunk,
            on_wakeup: onWakeupThunk, on_tick: onTickThunk, on_probe_result: onProbeResultThunk,
            on_upstream_body: onUpstreamBodyThunk, on_request_body: onRequestBodyThunk)
        var options = options
        let ctx = Unmanaged.passUnretained(self).toOpaque()
        guard let w = tp_worker_create(UInt32(index), ctx, &callbacks, &options) else {
            throw ServerError("worker \(index): could not create its loop")
        }
        worker = w
        for (i, listener) in listeners {
            let r = tp_worker_listen(w, listener.host, UInt16(listener.port), UInt32(i), listener.admin ? 0 : 1)
            if r != 0 {
                throw ServerError("listener \(listener.name) (\(listener.host):\(listener.port)): \(String(cString: strerror(-r)))")
            }
            if let context = tls[i] { tp_worker_set_tls(w, UInt32(i), context.pointer) }
            if listener.protocolType == .http && listener.http2 { tp_worker_set_h2c(w, UInt32(i), 1) }
        }
        let r = tp_worker_start(w)
        if r != 0 { throw ServerError("worker \(index): could not start its thread (\(r))") }
    }

    /// Any thread.
    func post(_ message: WorkerMessage) {
        inbox.withLock { $0.append(message) }
        if let worker { tp_worker_post(worker) }
    }

    func join() {
        if let worker { tp_worker_join(worker) }
        worker = nil
    }

    // MARK: - Callbacks (loop thread)

    fileprivate func onWakeup() {
        let messages = inbox.withLock { m -> [WorkerMessage] in
            let all = m
            m.removeAll()
            return all
        }
        for message in messages {
            switch message {
            case .adopt(let s):
                snapshot = s
                snapshotLogsAnything = Self.logsAnything(s)
                tlsClients.removeAll()
                health?.adopt(s)
            case .drain(let timeout):
                if let worker { tp_worker_drain(worker, timeout) }
            case .reloadFinished(let slot, let status, let body):
                guard slot < exchanges.records.count, exchanges[slot].alive, let ex = pendingAdmin[slot] else { continue }
                pendingAdmin[slot] = nil
                respondJSON(ex, slot: slot, status: status, body: body)
            case .cacheFilled(let tokens, let response):
                for token in tokens { resumeWaiter(token: token, response: response) }
            case .adoptTLS(let contexts):
                for (listener, context) in contexts { tp_worker_set_tls(worker, UInt32(listener), context.pointer) }
            case .lambdaFinished(let token, let outcome, let receivedNs):
                guard let slot = exchanges.slot(for: token), let ex = exchanges[slot].exchange else { continue }
                if exchanges[slot].authorizer != nil {
                    finishAuthorizer(ex, slot: slot, outcome: outcome)
                    continue
                }
                finishLambda(ex, slot: slot, outcome: outcome)
                if case .success = outcome { server.functions?.timings.withLock { $0.record(outbound: tp_now_ns() &- receivedNs) } }
            }
        }
    }

    private var pendingAdmin: [Int: OpaquePointer] = [:]

    fileprivate func onRequest(_ ex: OpaquePointer, _ head: UnsafePointer<tp_request_head>, _ info: UnsafePointer<tp_conn_info>) {
        let h = head.pointee
        let count = Int(h.header_count)
        let base = UnsafeRawPointer(head).advanced(by: MemoryLayout<tp_request_head>.offset(of: \.headers)!)
            .assumingMemoryBound(to: tp_header.self)
        for i in 0..<count {
            let f = base[i]
            headerFields[i] = HeaderField(name: slice(f.name), value: slice(f.value))
        }
        let listenerIndex = Int(info.pointee.listener_id)
        let clientIP = UnsafeRawPointer(info).advanced(by: MemoryLayout<tp_conn_info>.offset(of: \.client_ip)!)
        var request = RequestHead(
            method: slice(h.method), path: slice(h.path), query: slice(h.query), hasQuery: h.has_query != 0,
            host: slice(h.host), headers: UnsafeBufferPointer(rebasing: headerFields[0..<count]),
            contentLength: h.content_length, chunked: h.chunked != 0, httpVersionMinor: h.version_minor,
            clientIP: UnsafeRawBufferPointer(start: clientIP, count: strlen(clientIP.assumingMemoryBound(to: CChar.self))),
            localPort: info.pointee.local_port, listenerIndex: listenerIndex)
        request.isHTTP2 = info.pointee.http2 != 0
        if info.pointee.tls != 0 {
            request.isTLS = true
            let sni = UnsafeRawPointer(info).advanced(by: MemoryLayout<tp_conn_info>.offset(of: \.tls_server_name)!)
            request.tlsServerName = UnsafeRawBufferPointer(start: sni, count: strlen(sni.assumingMemoryBound(to: CChar.self)))
            if info.pointee.tls_client_verified != 0 {
                let subject = UnsafeRawPointer(info).advanced(by: MemoryLayout<tp_conn_info>.offset(of: \.tls_client_subject)!)
                request.clientCertSubject = UnsafeRawBufferPointer(
                    start: subject, count: strlen(subject.assumingMemoryBound(to: CChar.self)))
            }
        }

        let slot = exchanges.allocate()
        tp_exchange_set_user(ex, UInt64(slot + 1))
        let now = tp_worker_now_ns(worker)
        let epochMs = clock.epochMillis(loopNs: now)
        let requestId = ids.next(epochSeconds: epochMs / 1000)
        let snapshot = self.snapshot
        exchanges[slot] = ExchangeRecord(
            snapshot: snapshot, requestId: requestId, epochMs: epochMs, alive: true, exchange: ex,
            generation: exchanges.generation(slot))
        let isAdmin = listenerIndex < snapshot.config.listeners.count && snapshot.config.listeners[listenerIndex].admin
        if isAdmin {
            handleAdmin(ex, slot: slot, request: request)
            return
        }
        if logsAnything {
            exchanges[slot].log = LogFacts(
                method: string(request.method), path: string(request.path), ip: string(request.clientIP),
                host: string(request.host), protocolName: request.protocolName)
        }

        runPipeline(ex, slot: slot, request: request, now: now)
    }

    /// The pipeline's decision for a request, carried out. `authorized`: the request comes
    /// back from its Lambda authorizer, which allowed it as this principal.
    private func runPipeline(
        _ ex: OpaquePointer, slot: Int, request: RequestHead, now: UInt64,
        authorized: AuthorizedPrincipal? = nil, authorizerLatencyMs: Int64 = 0
    ) {
        guard let snapshot = exchanges[slot].snapshot else { return }
        let requestId = exchanges[slot].requestId
        let epochMs = exchanges[slot].epochMs
        let waiter = CacheWaiter(workerIndex: index, token: exchanges.token(slot))
        let decision = Pipeline.run(
            request: request, snapshot: snapshot, state: &pipeline, requestId: requestId, nowNs: now,
            epochMs: epochMs, cacheWaiter: waiter, authorized: authorized)
        pipeline.auth.lambdaLatencyMs = authorizerLatencyMs
        if logsAnything { exchanges[slot].auth = pipeline.auth }
        if !pipeline.abandonedWaiters.isEmpty {
            notify(pipeline.abandonedWaiters, response: nil)
            pipeline.abandonedWaiters.removeAll()
        }
        switch decision {
        case .respond(let response, let resolution):
            exchanges[slot].resolution = resolution
            respondGateway(ex, response, requestId: requestId, extraHeaders: pipeline.responseHeaders)
        case .preflight(let resolution):
            exchanges[slot].resolution = resolution
            respondPreflight(ex, requestId: requestId)
        case .cacheHit(let cached, let resolution):
            exchanges[slot].resolution = resolution
            let stageCache = snapshot.apis[resolution.apiIndex].stages[resolution.stageIndex].cache
            respondCached(ex, cached, requestId: requestId, statusHeader: stageCache?.statusHeader,
                          extra: pipeline.corsHeaders + pipeline.responseHeaders
                              + (deploymentHeader(snapshot, resolution) ?? []))
        case .authorize(let plan):
            exchanges[slot].resolution = plan.resolution
            startAuthorizer(ex, slot: slot, plan: plan, request: request, snapshot: snapshot, now: now)
        case .authorizerRefused(let decision, let resolution):
            exchanges[slot].resolution = resolution
            respondAuthorizerRefusal(ex, decision, slot: slot)
        case .invoke(let plan):
            exchanges[slot].resolution = plan.resolution
            let served = Served(snapshot: snapshot, resolution: plan.resolution)
            if snapshot.apis[plan.resolution.apiIndex].cors != nil {
                exchanges[slot].replacesCors = true
                exchanges[slot].responseExtras = pipeline.corsHeaders
            }
            exchanges[slot].responseExtras.append(contentsOf: pipeline.responseHeaders)
            let proxy = LambdaRequest.make(
                request: request, resolution: plan.resolution, served: served, captures: pipeline.captures,
                requestId: requestId, epochMs: epochMs, auth: pipeline.auth)
            exchanges[slot].lambda = PendingLambda(
                request: proxy, target: plan.target, timeoutMillis: plan.timeoutMillis,
                binary: proxy.bodyIsBinary(binaryMediaTypes: served.api.binaryMediaTypes),
                decodesBase64: proxy.decodesBase64Response(binaryMediaTypes: served.api.binaryMediaTypes))
            tp_exchange_read_body(ex, UInt64(snapshot.maxBodyBytes))
        case .proxy(let plan):
            exchanges[slot].resolution = plan.resolution
            exchanges[slot].endpoint = plan.endpoint
            exchanges[slot].hasResponseMappings = plan.hasResponseMappings
            exchanges[slot].targetGroup = plan.targetGroup
            if snapshot.apis[plan.resolution.apiIndex].cors != nil {
                exchanges[slot].replacesCors = true
                exchanges[slot].responseExtras = pipeline.corsHeaders
            }
            if let deployment = deploymentHeader(snapshot, plan.resolution) {
                exchanges[slot].responseExtras.append(contentsOf: deployment)
            }
            // e.g. the cache-control warning for an unauthorized max-age=0 that missed
            exchanges[slot].responseExtras.append(contentsOf: pipeline.responseHeaders)
            var target = upstreamTarget(plan.endpoint, group: snapshot.targetGroups[plan.targetGroup])
            target.timeout_ms = plan.timeoutMillis
            if case .wait = plan.cache {
                // Another exchange is fetching this key: wait for it, ready to go upstream
                // ourselves if its fill fails.
                exchanges[slot].parkedHead = pipeline.upstreamHead
                exchanges[slot].parkedTarget = target
                exchanges[slot].endpoint = nil
                return
            }
            exchanges[slot].cacheIntent = plan.cache
            pipeline.balancer.begin(plan.endpoint)
            pipeline.upstreamHead.withUnsafeBufferPointer { head in
                tp_exchange_proxy(ex, &target, head.baseAddress, head.count)
            }
        }
    }

    /// The request body of a Lambda exchange arrived: the event goes to the function.
    fileprivate func onRequestBody(_ ex: OpaquePointer, _ data: UnsafePointer<UInt8>?, _ len: Int, _ status: UInt16) {
        let slot = Int(tp_exchange_user(ex)) - 1
        guard slot >= 0, let pending = exchanges[slot].lambda else { return }
        guard status == 0 else {
            exchanges[slot].failure = status == 413 ? "request body over the payload limit" : "malformed chunked request body"
            respondGateway(ex, status == 413 ? .requestTooLarge : .badRequest, requestId: exchanges[slot].requestId)
            return
        }
        guard let functions = server.functions, functions.knows(pending.target.functionName) else {
            exchanges[slot].failure = "no function \(pending.target.functionName) is running"
            respondGateway(ex, .badGateway, requestId: exchanges[slot].requestId)
            return
        }
        let body = data.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
        let event = ProxyEvent.build(pending.request, body: body, binary: pending.binary, format: pending.target.format)
        let now = tp_now_ns()
        let function = server.snapshot.config.functions.first { $0.name == pending.target.functionName }
        // The function's own timeout kills its process; the integration's timeout bounds the wait.
        let functionMs = UInt64(function?.timeoutSeconds ?? 3) * 1000
        let waitMs = min(functionMs, UInt64(pending.timeoutMillis))
        let invocation = Invocation(
            id: lambdaRequestId(), payload: event, deadlineNs: now &+ waitMs * 1_000_000,
            deadlineEpochMs: exchanges[slot].epochMs &+ waitMs,
            ticket: InvocationTicket(worker: index, token: exchanges.token(slot)), submittedNs: now)
        exchanges[slot].invokedNs = now
        functions.submit(function: pending.target.functionName, invocation)
    }

    /// Invokes the route's Lambda authorizer; the request waits (with a copy of its head,
    /// since the connection's buffer moves on) and runs again once it is allowed.
    private func startAuthorizer(
        _ ex: OpaquePointer, slot: Int, plan: AuthorizerPlan, request: RequestHead, snapshot: GatewaySnapshot, now: UInt64
    ) {
        let compiled = snapshot.lambdaAuthorizers[plan.authorizer]
        exchanges[slot].authorizer = PendingAuthorizer(plan: plan, request: OwnedRequestHead(request), startedNs: now)
        exchanges[slot].responseExtras = pipeline.corsHeaders
        guard let functions = server.functions, functions.knows(compiled.functionName) else {
            finishAuthorizer(ex, slot: slot, outcome: .failed("no function \(compiled.functionName) is running"))
            return
        }
        let function = snapshot.config.functions.first { $0.name == compiled.functionName }
        let waitMs = UInt64(function?.timeoutSeconds ?? 3) * 1000
        functions.submit(function: compiled.functionName, Invocation(
            id: lambdaRequestId(), payload: plan.invocation.event, deadlineNs: now &+ waitMs * 1_000_000,
            deadlineEpochMs: exchanges[slot].epochMs &+ waitMs,
            ticket: InvocationTicket(worker: index, token: exchanges.token(slot)), submittedNs: now))
    }

    /// The authorizer answered: refuse, or run the request again as the allowed principal.
    private func finishAuthorizer(_ ex: OpaquePointer, slot: Int, outcome: InvocationOutcome) {
        guard let pending = exchanges[slot].authorizer, let snapshot = exchanges[slot].snapshot else { return }
        exchanges[slot].authorizer = nil
        let result: LambdaAuthorizer.InvocationResult
        switch outcome {
        case .success(let payload): result = .payload(payload)
        case .functionError(let document):
            let message = JSONValue(json: document)?["errorMessage"]?.stringValue ?? ""
            result = .functionError(message: message)
        case .timedOut, .failed, .throttled: result = .invocationFailed
        }
        let now = tp_worker_now_ns(worker)
        let compiled = snapshot.lambdaAuthorizers[pending.plan.authorizer]
        let (decision, failure) = compiled.authorizer.finish(
            pending.plan.invocation, result: result, cache: snapshot.authorizerCache,
            nowSeconds: Int64(exchanges[slot].epochMs / 1000))
        guard case .allow(let principal) = decision else {
            exchanges[slot].failure = failure?.logDescription ?? "refused by the Lambda authorizer"
            if decision.status == 500 {
                warn("500 for request \(exchanges[slot].requestId.string): \(exchanges[slot].failure ?? "")", endpoint: nil)
            }
            respondAuthorizerRefusal(ex, decision, slot: slot)
            return
        }
        exchanges[slot].responseExtras = []
        runPipeline(
            ex, slot: slot, request: pending.request.head, now: now, authorized: principal,
            authorizerLatencyMs: Int64((now &- pending.startedNs) / 1_000_000))
    }

    /// A Lambda authorizer's refusal: its status and exact body (REST adds x-amzn-ErrorType).
    private func respondAuthorizerRefusal(_ ex: OpaquePointer, _ decision: AuthorizerDecision, slot: Int) {
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: Array("HTTP/1.1 \(decision.status) \(ReasonPhrase.forStatus(decision.status))\r\ncontent-type: application/json\r\n".utf8))
        if let type = decision.restErrorType { out.append(contentsOf: Array("x-amzn-ErrorType: \(type)\r\n".utf8)) }
        out.append(contentsOf: exchanges[slot].responseExtras)
        appendRequestId(slot, to: &out)
        let body = decision.body
        out.withUnsafeBufferPointer { head in
            body.withUnsafeBufferPointer { b in
                tp_exchange_respond(ex, head.baseAddress, head.count, b.baseAddress, b.count, 0)
            }
        }
    }

    /// A UUID-shaped Lambda request id.
    private func lambdaRequestId() -> String {
        // The worker's own generator: a system random read per invocation is a syscall.
        let a = pipeline.random.next(), b = pipeline.random.next()
        func hex(_ v: UInt64, _ digits: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, digits - s.count)) + s
        }
        return "\(hex(a >> 32, 8))-\(hex((a >> 16) & 0xFFFF, 4))-4\(hex(a & 0xFFF, 3))-\(hex(8 | (b >> 62), 1))\(hex((b >> 48) & 0xFFF, 3))-\(hex(b & 0xFFFF_FFFF_FFFF, 12))"
    }

    /// Answers a Lambda exchange from its invocation's outcome, as API Gateway would.
    private func finishLambda(_ ex: OpaquePointer, slot: Int, outcome: InvocationOutcome) {
        guard let pending = exchanges[slot].lambda else { return }
        exchanges[slot].invocationEndNs = tp_now_ns()
        let requestId = exchanges[slot].requestId
        let response: GatewayResponse
        switch outcome {
        case .success(let payload):
            switch ProxyResponse.parse(payload, format: pending.target.format, decodesBase64: pending.decodesBase64) {
            case .success(let parsed):
                out.removeAll(keepingCapacity: true)
                var extra = exchanges[slot].responseExtras
                appendRequestId(slot, to: &extra)
                parsed.writeHead(reason: ReasonPhrase.forStatus(parsed.statusCode), extra: extra, into: &out)
                out.withUnsafeBufferPointer { head in
                    parsed.body.withUnsafeBufferPointer { body in
                        tp_exchange_respond(ex, head.baseAddress, head.count, body.baseAddress, body.count, 0)
                    }
                }
                return
            case .failure(let error):
                exchanges[slot].failure = error.logMessage
                response = .lambdaFailure
            }
        case .functionError(let document):
            exchanges[slot].failure = "function error: " + String(decoding: document.prefix(1000), as: UTF8.self)
            response = .lambdaFailure
        case .failed(let reason):
            exchanges[slot].failure = reason
            response = .lambdaFailure
        case .timedOut:
            exchanges[slot].failure = "the function ran past its timeout"
            response = .integrationTimeout
        case .throttled:
            exchanges[slot].failure = "the function's reserved concurrency is in use"
            response = .tooManyRequests
        }
        warn("\(response.status) for request \(requestId.string): \(exchanges[slot].failure ?? "Lambda failure")", endpoint: nil)
        respondGateway(ex, response, requestId: requestId, extraHeaders: exchanges[slot].responseExtras)
    }

    /// `x-turnpike-deployment` on stages with a canary: which deployment served.
    private func deploymentHeader(_ snapshot: GatewaySnapshot, _ r: Resolution) -> [UInt8]? {
        let stage = snapshot.apis[r.apiIndex].stages[r.stageIndex]
        guard stage.canary != nil else { return nil }
        let id = snapshot.variant(r).deploymentId ?? "$current"
        return Array("x-turnpike-deployment: \(id)\(r.canary ? "; canary" : "")\r\n".utf8)
    }

    /// Answers (or sends upstream) a request that waited for a cache fill.
    private func resumeWaiter(token: UInt64, response: CachedResponse?) {
        guard let slot = exchanges.slot(for: token), let ex = exchanges[slot].exchange,
              let snapshot = exchanges[slot].snapshot, let resolution = exchanges[slot].resolution
        else { return }
        if let response {
            let stageCache = snapshot.apis[resolution.apiIndex].stages[resolution.stageIndex].cache
            respondCached(ex, response, requestId: exchanges[slot].requestId, statusHeader: stageCache?.statusHeader,
                          extra: exchanges[slot].responseExtras)
            return
        }
        let head = exchanges[slot].parkedHead
        var target = exchanges[slot].parkedTarget
        exchanges[slot].parkedHead = []
        guard !head.isEmpty, let group = Optional(snapshot.targetGroups[exchanges[slot].targetGroup]),
              let endpoint = group.endpoints.first(where: { $0.id == target.endpoint_id })
        else {
            respondGateway(ex, .badGateway, requestId: exchanges[slot].requestId)
            return
        }
        exchanges[slot].endpoint = endpoint
        pipeline.balancer.begin(endpoint)
        head.withUnsafeBufferPointer { tp_exchange_proxy(ex, &target, $0.baseAddress, $0.count) }
    }

    /// Hands a finished (or failed) cache fill to everyone who waited for it.
    private func notify(_ waiters: [CacheWaiter], response: CachedResponse?) {
        var byWorker: [Int: [UInt64]] = [:]
        for w in waiters { byWorker[w.workerIndex, default: []].append(w.token) }
        for (worker, tokens) in byWorker {
            if worker == index {
                for token in tokens { resumeWaiter(token: token, response: response) }
            } else {
                server.worker(worker)?.post(.cacheFilled(tokens: tokens, response: response))
            }
        }
    }

    fileprivate func onUpstreamHead(_ ex: OpaquePointer, _ head: UnsafePointer<tp_response_head>) {
        let slot = Int(tp_exchange_user(ex)) - 1
        guard slot >= 0 else { return }
        // Fields are read in place: copying the whole record costs a reference count per field.
        let h = head.pointee
        let count = Int(h.header_count)
        let base = UnsafeRawPointer(head).advanced(by: MemoryLayout<tp_response_head>.offset(of: \.headers)!)
            .assumingMemoryBound(to: tp_header.self)
        for i in 0..<count {
            let f = base[i]
            headerFields[i] = HeaderField(name: slice(f.name), value: slice(f.value))
        }
        var mappings: [ParameterMapping]? = nil
        var context: MappingContext? = nil
        if exchanges[slot].hasResponseMappings, let snapshot = exchanges[slot].snapshot,
           let resolution = exchanges[slot].resolution
        {
            let served = Served(snapshot: snapshot, resolution: resolution)
            if let m = served.route.integration.responseParameters[String(h.status)] {
                mappings = m
                context = MappingContext(
                    request: .empty, routePath: UnsafeRawBufferPointer(start: nil, count: 0),
                    captures: pipeline.captures, api: served.api, stage: served.stage, variant: served.variant,
                    routeKey: served.route.routeKey, requestId: exchanges[slot].requestId,
                    requestTimeEpochMs: exchanges[slot].epochMs)
            }
        }
        var capture = false
        var cacheStatus: [UInt8] = []
        if let intent = exchanges[slot].cacheIntent {
            cacheStatus = intent.stageCache.statusHeader + Array(": Miss\r\n".utf8)
            capture = Self.isCacheable(status: Int(h.status), headers: UnsafeBufferPointer(rebasing: headerFields[0..<count]))
            if !capture { abandonFill(slot) }
        }
        out.removeAll(keepingCapacity: true)
        let fields = ResponseHeadWriter.write(
            status: Int(h.status), reason: slice(h.reason),
            headers: UnsafeBufferPointer(rebasing: headerFields[0..<count]),
            requestId: exchanges[slot].requestId, mappings: mappings, context: context,
            dropsCors: exchanges[slot].replacesCors,
            extraHeaders: cacheStatus.isEmpty ? exchanges[slot].responseExtras : exchanges[slot].responseExtras + cacheStatus,
            requestIdField: requestIdField(ex), into: &out)
        if capture {
            exchanges[slot].cacheHeaderBlock = Array(out[fields])
            exchanges[slot].cacheStatus = Int(h.status)
            if h.content_length > 0 { exchanges[slot].cacheBody.reserveCapacity(Int(min(h.content_length, 1 << 24))) }
            tp_exchange_capture_body(ex, UInt64(exchanges[slot].cacheIntent?.stageCache.cache.maxEntryBytes ?? 0))
        }
        out.withUnsafeBufferPointer { tp_exchange_send_head(ex, $0.baseAddress, $0.count) }
    }

    fileprivate func onUpstreamError(_ ex: OpaquePointer, _ kind: tp_upstream_error) {
        let slot = Int(tp_exchange_user(ex)) - 1
        guard slot >= 0, let snapshot = exchanges[slot].snapshot else { return }
        let now = tp_worker_now_ns(worker)
        let group = exchanges[slot].targetGroup >= 0 ? snapshot.targetGroups[exchanges[slot].targetGroup] : nil
        let failedEndpoint = exchanges[slot].endpoint
        if let endpoint = exchanges[slot].endpoint {
            pipeline.balancer.end(endpoint)
            exchanges[slot].endpoint = nil
            if kind != TP_CLIENT_BODY_TOO_LARGE && kind != TP_CLIENT_BODY_INVALID, let group {
                if endpoint.recordFailure(policy: group.passiveEjection, nowNs: now) {
                    server.log("endpoint \(endpoint.endpoint.host):\(endpoint.endpoint.port) ejected after consecutive failures")
                }
            }
            // Only a connection that was never made proves the request never arrived.
            if kind == TP_UPSTREAM_CONNECT_FAILED || kind == TP_UPSTREAM_CONNECT_TIMEOUT, let group {
                pipeline.balancer.adopt(snapshot)
                if let next = pipeline.balancer.pick(
                    group: group, groupIndex: exchanges[slot].targetGroup, nowNs: now, excluding: endpoint.id)
                {
                    exchanges[slot].endpoint = next
                    pipeline.balancer.begin(next)
                    var target = upstreamTarget(next, group: group)
                    target.timeout_ms = timeoutOf(slot)
                    tp_exchange_retry(ex, &target)
                    return
                }
            }
        }
        let response: GatewayResponse
        switch kind {
        case TP_UPSTREAM_TIMEOUT:
            response = .integrationTimeout
            exchanges[slot].failure = "integration timed out"
        case TP_CLIENT_BODY_TOO_LARGE:
            response = .requestTooLarge
            exchanges[slot].failure = "request body over the payload limit"
        case TP_CLIENT_BODY_INVALID:
            response = .badRequest
            exchanges[slot].failure = "malformed chunked request body"
        case TP_UPSTREAM_CONNECT_FAILED, TP_UPSTREAM_CONNECT_TIMEOUT:
            response = .badGateway
            exchanges[slot].failure = "could not connect to the integration endpoint"
        case TP_UPSTREAM_BAD_RESPONSE:
            response = .badGateway
            exchanges[slot].failure = "malformed integration response"
        default:
            response = .badGateway
            exchanges[slot].failure = "integration closed the connection before responding"
        }
        warn("\(response.status) for request \(exchanges[slot].requestId.string): \(exchanges[slot].failure ?? "integration failure")",
             endpoint: failedEndpoint)
        respondGateway(ex, response, requestId: exchanges[slot].requestId)
    }

    private func warn(_ message: String, endpoint: EndpointState?) {
        let second = tp_worker_now_ns(worker) / 1_000_000_000
        if second != warningSecond {
            if warningsThisSecond > warningBudget {
                server.log("worker \(index): \(warningsThisSecond - warningBudget) more integration failure(s) not shown")
            }
            warningSecond = second
            warningsThisSecond = 0
        }
        warningsThisSecond += 1
        guard warningsThisSecond <= warningBudget else { return }
        let target = endpoint.map { " (\($0.endpoint.host):\($0.endpoint.port))" } ?? ""
        server.log("worker \(index): \(message)\(target)")
    }

    fileprivate func onExchangeEnd(_ ex: OpaquePointer, _ stats: UnsafePointer<tp_exchange_stats>) {
        let slot = Int(tp_exchange_user(ex)) - 1
        guard slot >= 0 else { return }
        if let endpoint = exchanges[slot].endpoint {
            pipeline.balancer.end(endpoint)
            if stats.pointee.upstream_status != 0 { endpoint.recordSuccess() }
        }
        if !pendingAdmin.isEmpty { pendingAdmin[slot] = nil }
        if exchanges[slot].cacheIntent != nil { abandonFill(slot) }
        if let log = exchanges[slot].log, let settings = accessLogSettings(exchanges[slot]),
           let sink = server.accessLogSink(settings)
        {
            writeAccessLog(sink, format: settings.format, record: exchanges[slot], log: log, stats: stats.pointee)
        }
        exchanges.release(slot)
    }

    fileprivate func onUpstreamBody(_ ex: OpaquePointer, _ data: UnsafePointer<UInt8>?, _ len: Int) {
        let slot = Int(tp_exchange_user(ex)) - 1
        guard slot >= 0, let intent = exchanges[slot].cacheIntent else { return }
        if let data {
            exchanges[slot].cacheBody.append(contentsOf: UnsafeBufferPointer(start: data, count: len))
            return
        }
        guard len == 0 else {
            abandonFill(slot)  // larger than an entry may be
            return
        }
        let (key, stageCache, ttl) = (intent.key, intent.stageCache, intent.ttlNs)
        let now = tp_worker_now_ns(worker)
        let response = CachedResponse(
            key: key, status: exchanges[slot].cacheStatus, headerBlock: exchanges[slot].cacheHeaderBlock,
            body: exchanges[slot].cacheBody, storedAtNs: now, expiresAtNs: now &+ ttl)
        exchanges[slot].cacheIntent = nil
        exchanges[slot].cacheBody = []
        let waiters = stageCache.cache.complete(key, with: response)
        if !waiters.isEmpty { notify(waiters, response: response) }
    }

    /// A fill that will not be stored: waiters go upstream themselves.
    private func abandonFill(_ slot: Int) {
        guard let intent = exchanges[slot].cacheIntent else { return }
        exchanges[slot].cacheIntent = nil
        exchanges[slot].cacheBody = []
        if case .fill(let key, let stageCache, _) = intent {
            let waiters = stageCache.cache.abandon(key)
            if !waiters.isEmpty { notify(waiters, response: nil) }
        }
    }

    /// 2xx responses are stored unless the upstream says `no-store` or `private`.
    static func isCacheable(status: Int, headers: UnsafeBufferPointer<HeaderField>) -> Bool {
        guard (200..<300).contains(status) else { return false }
        for field in headers where field.name.count == 13 {
            let name = String(decoding: field.name, as: UTF8.self).lowercased()
            guard name == "cache-control" else { continue }
            let value = String(decoding: field.value, as: UTF8.self).lowercased()
            if value.contains("no-store") || value.contains("private") { return false }
        }
        return true
    }

    fileprivate func onTick() {
        if let health, let worker { health.tick(worker: worker, server: server) }
    }

    fileprivate func onProbeResult(_ token: UInt64, _ status: UInt16) {
        health?.result(token: token, status: status, server: server)
    }

    // MARK: - Answering

    private func respondGateway(
        _ ex: OpaquePointer, _ response: GatewayResponse, requestId: RequestId, extraHeaders: [UInt8] = []
    ) {
        out.removeAll(keepingCapacity: true)
        let slot = Int(tp_exchange_user(ex)) - 1
        let rest = response == .missingAuthenticationToken || isRest(slot)
        let body = snapshot.responses.write(response, requestId: requestId, into: &out, rest: rest)
        out.append(contentsOf: extraHeaders)
        let flags: Int32 = response == .requestTooLarge ? Int32(TP_RESPOND_CLOSE) : 0
        out.withUnsafeBufferPointer { head in
            body.withUnsafeBufferPointer { b in
                tp_exchange_respond(ex, head.baseAddress, head.count, b.baseAddress, b.count, flags)
            }
        }
    }

    /// Whether the exchange was resolved to a REST API.
    private func isRest(_ slot: Int) -> Bool {
        guard slot >= 0, slot < exchanges.records.count, let snapshot = exchanges[slot].snapshot,
              let r = exchanges[slot].resolution else { return false }
        return snapshot.apis[r.apiIndex].isRest
    }

    private static let httpRequestIdField = Array("apigw-requestid: ".utf8)
    private static let restRequestIdField = Array("x-amzn-RequestId: ".utf8)

    /// The request id field's name: REST APIs say `x-amzn-RequestId`, HTTP APIs `apigw-requestid`.
    private func requestIdField(_ ex: OpaquePointer) -> [UInt8] {
        isRest(Int(tp_exchange_user(ex)) - 1) ? Self.restRequestIdField : Self.httpRequestIdField
    }

    private func appendRequestId(_ slot: Int, to out: inout [UInt8]) {
        out.append(contentsOf: isRest(slot) ? Self.restRequestIdField : Self.httpRequestIdField)
        exchanges[slot].requestId.append(to: &out)
        out.append(13); out.append(10)
    }

    /// A CORS preflight the gateway answers: 204 and the CORS fields (none when refused).
    private func respondPreflight(_ ex: OpaquePointer, requestId: RequestId) {
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: Array("HTTP/1.1 204 No Content\r\n".utf8))
        out.append(contentsOf: pipeline.responseHeaders)
        out.append(contentsOf: requestIdField(ex))
        requestId.append(to: &out)
        out.append(13); out.append(10)
        out.withUnsafeBufferPointer { tp_exchange_respond(ex, $0.baseAddress, $0.count, nil, 0, 0) }
    }

    /// A response from the stage cache, with the cache status field and a fresh request id.
    private func respondCached(
        _ ex: OpaquePointer, _ cached: CachedResponse, requestId: RequestId, statusHeader: [UInt8]?, extra: [UInt8]
    ) {
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: Array("HTTP/1.1 \(cached.status) \(ReasonPhrase.forStatus(cached.status))\r\n".utf8))
        out.append(contentsOf: cached.headerBlock)
        if let statusHeader {
            out.append(contentsOf: statusHeader)
            out.append(contentsOf: Array(": Hit\r\n".utf8))
        }
        out.append(contentsOf: extra)
        out.append(contentsOf: requestIdField(ex))
        requestId.append(to: &out)
        out.append(13); out.append(10)
        out.withUnsafeBufferPointer { head in
            cached.body.withUnsafeBufferPointer { body in
                tp_exchange_respond(ex, head.baseAddress, head.count, body.baseAddress, body.count, 0)
            }
        }
    }

    func respondJSON(_ ex: OpaquePointer, slot: Int, status: Int, body: String) {
        let reason = [200: "OK", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"][status] ?? "Bad Request"
        var head = "HTTP/1.1 \(status) \(reason)\r\ncontent-type: application/json\r\napigw-requestid: "
        head += exchanges[slot].requestId.string + "\r\n"
        var h = Array(head.utf8)
        var b = Array(body.utf8)
        h.withUnsafeMutableBufferPointer { hp in
            b.withUnsafeMutableBufferPointer { bp in
                tp_exchange_respond(ex, hp.baseAddress, hp.count, bp.baseAddress, bp.count, 0)
            }
        }
    }

    private func handleAdmin(_ ex: OpaquePointer, slot: Int, request: RequestHead) {
        let method = string(request.method)
        let path = string(request.path)
        switch (method, path) {
        case ("GET", "/admin/health"):
            respondJSON(ex, slot: slot, status: 200, body: server.healthReport(snapshot: snapshot))
        case ("POST", "/admin/reload"):
            pendingAdmin[slot] = ex
            let worker = self
            server.reloadInBackground { status, body in
                worker.post(.reloadFinished(slot: slot, status: status, body: body))
            }
        case ("DELETE", "/admin/cache"):
            let (status, body) = server.flushCache(query: string(request.query), snapshot: snapshot)
            respondJSON(ex, slot: slot, status: status, body: body)
        case ("GET", "/admin/lambda"):
            respondJSON(ex, slot: slot, status: 200, body: server.functions?.timings.withLock { $0.json } ?? "{}")
        case ("GET", "/admin/usage"):
            let (status, body) = server.usage(query: string(request.query), snapshot: snapshot)
            respondJSON(ex, slot: slot, status: status, body: body)
        case (_, "/admin/health"), (_, "/admin/reload"), (_, "/admin/usage"), (_, "/admin/cache"), (_, "/admin/lambda"):
            respondJSON(ex, slot: slot, status: 405, body: "{\"message\":\"Method Not Allowed\"}")
        default:
            respondJSON(ex, slot: slot, status: 404, body: "{\"message\":\"Not Found\"}")
        }
    }

    /// A stage's own accessLogSettings win over the global ones (settings.accessLog).
    private func accessLogSettings(_ record: ExchangeRecord) -> AccessLogSettings? {
        if let snapshot = record.snapshot, let r = record.resolution,
           let stageLog = snapshot.apis[r.apiIndex].stages[r.stageIndex].accessLog, stageLog.enabled
        {
            return stageLog
        }
        let global = (record.snapshot ?? snapshot).config.settings.accessLog
        return global.enabled ? global : nil
    }

    /// Whether any access log is on in the current snapshot (else the request's log facts
    /// are not even gathered).
    private var logsAnything: Bool {
        snapshotLogsAnything
    }

    private func writeAccessLog(
        _ sink: AccessLogSink, format: ValueTemplate?, record: ExchangeRecord, log: LogFacts, stats: tp_exchange_stats
    ) {
        var routeKey = "-", apiId = "-", stage = "-"
        var deploymentId: String? = nil
        if let snapshot = record.snapshot, let r = record.resolution {
            deploymentId = snapshot.variant(r).deploymentId
            let api = snapshot.apis[r.apiIndex]
            routeKey = snapshot.route(r).routeKey
            apiId = api.apiId
            stage = api.stages[r.stageIndex].name
        }
        var integrationLatency: Int? = stats.upstream_start_ns != 0 && stats.upstream_head_ns != 0
            ? Int((stats.upstream_head_ns - stats.upstream_start_ns) / 1_000_000) : nil
        if record.invokedNs != 0 && record.invocationEndNs != 0 {
            integrationLatency = Int((record.invocationEndNs &- record.invokedNs) / 1_000_000)
        }
        let entry = AccessLogRecord(
            requestId: record.requestId.string, ip: log.ip, requestTimeEpochMs: record.epochMs,
            httpMethod: log.method, path: log.path, routeKey: routeKey, status: Int(stats.status),
            protocolName: log.protocolName, responseLength: stats.response_body_bytes,
            integrationLatencyMs: integrationLatency,
            responseLatencyMs: Int((stats.end_ns &- stats.start_ns) / 1_000_000),
            integrationStatus: stats.upstream_status != 0 ? Int(stats.upstream_status) : nil,
            apiId: apiId, stage: stage, domainName: log.host, integrationError: record.failure,
            apiKeyId: record.auth?.apiKey?.id, authorizerError: record.auth?.error,
            claims: record.auth?.token?.claims ?? [:], deploymentId: deploymentId,
            isCanaryRequest: record.resolution?.canary ?? false)
        sink.write(AccessLogFormatter.line(entry, format: format))
    }

    // MARK: - Helpers

    private func timeoutOf(_ slot: Int) -> UInt32 {
        guard let snapshot = exchanges[slot].snapshot, let r = exchanges[slot].resolution else { return 29000 }
        return snapshot.route(r).integration.timeoutMillis
    }

    /// The TLS client for an HTTPS endpoint of a group, built off the loops by the server.
    private var tlsClients: [ObjectIdentifier: [UInt32: OpaquePointer]] = [:]

    private func tlsClient(_ endpoint: EndpointState, group: CompiledTargetGroup) -> OpaquePointer? {
        guard let spec = group.tls else { return nil }
        let g = ObjectIdentifier(group)
        if let p = tlsClients[g]?[endpoint.id] { return p }
        guard let client = server.upstreamTLSClient(spec, host: endpoint.endpoint.host) else { return nil }
        tlsClients[g, default: [:]][endpoint.id] = client.pointer
        return client.pointer
    }

    private func upstreamTarget(_ endpoint: EndpointState, group: CompiledTargetGroup) -> tp_upstream_target {
        let id = Int(endpoint.id)
        if id >= targets.count {
            targets.append(contentsOf: repeatElement(tp_upstream_target(), count: id + 1 - targets.count))
            targetKnown.append(contentsOf: repeatElement(false, count: id + 1 - targetKnown.count))
        }
        if !targetKnown[id] {
            var t = tp_upstream_target()
            _ = tp_target_set_addr(&t, endpoint.endpoint.host, UInt16(endpoint.endpoint.port))
            t.endpoint_id = endpoint.id
            targets[id] = t
            targetKnown[id] = true
        }
        var t = targets[id]
        t.connect_timeout_ms = group.connectTimeoutMillis
        t.max_idle = group.maxIdle
        t.pipeline_depth = group.pipelineDepth
        t.http2 = group.http2 ? 1 : 0
        t.tls = endpoint.secure ? tlsClient(endpoint, group: group) : nil
        return t
    }
}

@inline(__always)
private func slice(_ s: tp_slice) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: s.ptr, count: Int(s.len))
}

private func string(_ b: UnsafeRawBufferPointer) -> String {
    String(decoding: b, as: UTF8.self)
}

@inline(__always)
private func runtime(_ ctx: UnsafeMutableRawPointer?) -> WorkerRuntime {
    Unmanaged<WorkerRuntime>.fromOpaque(ctx!).takeUnretainedValue()
}

private let onRequestThunk: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<tp_request_head>?, UnsafePointer<tp_conn_info>?) -> Void = { ctx, ex, head, info in
    runtime(ctx).onRequest(ex!, head!, info!)
}
private let onUpstreamHeadThunk: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<tp_response_head>?) -> Void = { ctx, ex, head in
    runtime(ctx).onUpstreamHead(ex!, head!)
}
private let onUpstreamErrorThunk: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, tp_upstream_error) -> Void = { ctx, ex, kind in
    runtime(ctx).onUpstreamError(ex!, kind)
}
private let onExchangeEndThunk: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<tp_exchange_stats>?) -> Void = { ctx, ex, stats in
    runtime(ctx).onExchangeEnd(ex!, stats!)
}
private let onWakeupThunk: @convention(c) (UnsafeMutableRawPointer?) -> Void = { ctx in
    runtime(ctx).onWakeup()
}
private let onTickThunk: @convention(c) (UnsafeMutableRawPointer?) -> Void = { ctx in
    runtime(ctx).onTick()
}
private let onUpstreamBodyThunk: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<UInt8>?, Int) -> Void = { ctx, ex, data, len in
    runtime(ctx).onUpstreamBody(ex!, data, len)
}
private let onRequestBodyThunk: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<UInt8>?, Int, UInt16) -> Void = { ctx, ex, data, len, status in
    runtime(ctx).onRequestBody(ex!, data, len, status)
}
private let onProbeResultThunk: @convention(c) (UnsafeMutableRawPointer?, UInt64, UInt16) -> Void = { ctx, token, status in
    runtime(ctx).onProbeResult(token, status)
}

/// Wall-clock milliseconds for request times and ids, derived from the loop's cached
/// monotonic time and re-anchored to the real clock once a second — a clock read per
/// request is measurable at this request rate.
struct EpochClock {
    private var offsetMs: Int64 = 0
    private var anchoredAtNs: UInt64 = 0

    mutating func epochMillis(loopNs: UInt64) -> UInt64 {
        if anchoredAtNs == 0 || loopNs &- anchoredAtNs > 1_000_000_000 {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            let real = Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
            offsetMs = real - Int64(loopNs / 1_000_000)
            anchoredAtNs = loopNs
        }
        return UInt64(Int64(loopNs / 1_000_000) + offsetMs)
    }
}
