import TurnpikeGateway

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

    init() {
        records.reserveCapacity(1024)
        free.reserveCapacity(1024)
    }

    /// Returns the slot; the shim stores slot + 1 (0 means "no record").
    /// The caller fills the record (with `alive: true`) right after.
    mutating func allocate() -> Int {
        if let slot = free.popLast() { return slot }
        records.append(ExchangeRecord())
        return records.count - 1
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
