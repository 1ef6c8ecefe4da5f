import CTurnpikeShim
import TurnpikeGateway
import TurnpikeLambda

/// What a worker remembers of one exchange between the request and its end.
struct ExchangeRecord {
    var snapshot: GatewaySnapshot?
    var requestId = RequestId(bytes: (0, 0))
    var resolution: Resolution?
    var endpoint: EndpointState?
    var targetGroup = -1
    var epochMs: UInt64 = 0
    /// Materialised only when an access log is on.
    var log: LogFacts?
    var failure: String?
    var alive = false
    /// The caller's identity, kept only when an access log is on.
    var auth: AuthResult?
    /// The shim's exchange, for answering later (a request waiting for a cache fill).
    var exchange: OpaquePointer?
    /// Distinguishes this use of the slot from earlier ones (cache waiters hold it).
    var generation: UInt32 = 0
    /// Fields the gateway adds to the response: CORS (the API has CORS when
    /// `replacesCors`), and which deployment served on a stage with a canary.
    var responseExtras: [UInt8] = []
    var replacesCors = false
    /// This exchange fills (or refreshes) the stage cache with its response.
    var cacheIntent: CacheIntent?
    var cacheHeaderBlock: [UInt8] = []
    var cacheBody: [UInt8] = []
    var cacheStatus = 0
    /// A request waiting for another exchange's cache fill: what to send if the fill fails.
    var parkedHead: [UInt8] = []
    var parkedTarget = tp_upstream_target()
    /// The integration maps response parameters (looked up on the response only then).
    var hasResponseMappings = false
    /// AWS_PROXY: what the event is built from once the body is read.
    var lambda: PendingLambda?
    /// When the function was invoked and when its outcome came back (Lambda), for the
    /// access log's integration latency.
    var invokedNs: UInt64 = 0
    var invocationEndNs: UInt64 = 0
    /// Waiting for the route's Lambda authorizer.
    var authorizer: PendingAuthorizer?
}

/// A request waiting for its Lambda authorizer.
struct PendingAuthorizer {
    let plan: AuthorizerPlan
    let request: OwnedRequestHead
    let startedNs: UInt64
}

/// A Lambda proxy exchange between its head and its invocation.
struct PendingLambda {
    let request: ProxyRequest
    let target: LambdaTarget
    let timeoutMillis: UInt32
    /// The body travels base64-encoded.
    let binary: Bool
    /// A base64 body from the function reaches the client decoded.
    let decodesBase64: Bool
}

/// The request's fields the access log needs after the request bytes are gone.
struct LogFacts {
    var method: String
    var path: String
    var ip: String
    var host: String
    var protocolName: String
}

/// A slab of exchange records indexed by the word stored in the shim's exchange, so a
/// request costs no allocation once the slab has grown to the worker's concurrency.
struct ExchangeTable {
    private(set) var records: [ExchangeRecord] = []
    private var free: [Int] = []
    private var generations: [UInt32] = []

    init() {
        records.reserveCapacity(1024)
        free.reserveCapacity(1024)
    }

    /// Returns the slot; the shim stores slot + 1 (0 means "no record").
    /// The caller fills the record (with `alive: true` and `generation(slot)`) right after.
    mutating func allocate() -> Int {
        if let slot = free.popLast() {
            generations[slot] &+= 1
            return slot
        }
        records.append(ExchangeRecord())
        generations.append(1)
        return records.count - 1
    }

    func generation(_ slot: Int) -> UInt32 { generations[slot] }

    /// A token naming this use of a slot: (generation << 32) | slot.
    func token(_ slot: Int) -> UInt64 { UInt64(generations[slot]) << 32 | UInt64(slot) }

    /// The slot a token names, if that exchange is still in progress.
    func slot(for token: UInt64) -> Int? {
        let slot = Int(token & 0xFFFF_FFFF)
        guard slot < records.count, records[slot].alive, UInt64(generations[slot]) == token >> 32 else { return nil }
        return slot
    }

    mutating func release(_ slot: Int) {
        records[slot] = ExchangeRecord()
        free.append(slot)
    }

    subscript(slot: Int) -> ExchangeRecord {
        get { records[slot] }
        _modify { yield &records[slot] }
    }
}
