import Synchronization
import TurnpikeAuth
import TurnpikeCache
import TurnpikeConfig
import TurnpikeTraffic

/// Keeps state alive across reloads: JWT authorizers (with their JWKS refresh threads),
/// throttle buckets, stage caches and the quota store, keyed by what they were built
/// from. A reload that does not change an authorizer, a limit or a cache keeps its state.
public final class SharedStateRegistry: Sendable {
    private struct State {
        var authorizers: [String: JWTAuthorizer] = [:]
        var buckets: [String: GCRABucket] = [:]
        var clientBuckets: [String: ClientBuckets] = [:]
        var caches: [String: ResponseCache] = [:]
        var store: QuotaStore?
    }

    private let state = Mutex(State())
    private let log: @Sendable (String) -> Void
    private let opensQuotaStore: Bool

    /// `opensQuotaStore: false` (for `turnpike validate`) compiles without touching disk.
    public init(opensQuotaStore: Bool = true, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.opensQuotaStore = opensQuotaStore
        self.log = log
    }

    func authorizer(_ spec: JWTAuthorizerSpec) throws(SnapshotError) -> JWTAuthorizer {
        let key = String(describing: spec)
        if let existing = state.withLock({ $0.authorizers[key] }) { return existing }
        let created: JWTAuthorizer
        do {
            created = try JWTAuthorizer(spec: spec, log: log)
        } catch {
            throw SnapshotError(message: "authorizer \(spec.name): \(error.description)")
        }
        return state.withLock { s in
            if let existing = s.authorizers[key] {
                created.shutdown()
                return existing
            }
            s.authorizers[key] = created
            return created
        }
    }

    /// One bucket per level identity and limits: changing a limit starts a fresh bucket.
    func bucket(_ identity: String, _ spec: ThrottleSpec) throws(SnapshotError) -> GCRABucket {
        let key = "\(identity)|\(spec.burstLimit)|\(spec.rateLimit)"
        if let b = state.withLock({ $0.buckets[key] }) { return b }
        let b: GCRABucket
        do { b = try GCRABucket(spec) } catch { throw SnapshotError(message: "\(identity): \(error.message)") }
        return state.withLock { s in
            if let existing = s.buckets[key] { return existing }
            s.buckets[key] = b
            return b
        }
    }

    func clientBuckets(_ spec: ThrottleSpec) throws(SnapshotError) -> ClientBuckets {
        let key = "\(spec.burstLimit)|\(spec.rateLimit)"
        if let b = state.withLock({ $0.clientBuckets[key] }) { return b }
        let b: ClientBuckets
        do { b = try ClientBuckets(throttle: spec) } catch { throw SnapshotError(message: "settings.clientIpThrottle: \(error.message)") }
        return state.withLock { s in
            if let existing = s.clientBuckets[key] { return existing }
            s.clientBuckets[key] = b
            return b
        }
    }

    /// The quota store is opened once, at the first configuration's path.
    func store(path: String) throws(SnapshotError) -> QuotaStore? {
        guard opensQuotaStore else { return nil }
        if let s = state.withLock({ $0.store }) { return s }
        let created: QuotaStore
        do { created = try QuotaStore(path: path) } catch {
            throw SnapshotError(message: "settings.quotaStorePath \(path): \(error.message)")
        }
        return state.withLock { s in
            if let existing = s.store {
                created.close()
                return existing
            }
            s.store = created
            return created
        }
    }

    public var quotaStore: QuotaStore? { state.withLock { $0.store } }

    /// One cache per api stage and capacity: a reload keeps the cached entries.
    func cache(_ identity: String, capacityBytes: Int) -> ResponseCache {
        let key = "\(identity)|\(capacityBytes)"
        return state.withLock { s in
            if let c = s.caches[key] { return c }
            // An entry may take at most a sixteenth of the budget, so one response cannot
            // push out the whole working set.
            let c = ResponseCache(capacityBytes: capacityBytes, maxEntryBytes: max(capacityBytes / 16, 1))
            s.caches[key] = c
            return c
        }
    }

    /// Every stage cache (for flushing and metrics).
    public var caches: [(String, ResponseCache)] { state.withLock { s in s.caches.map { ($0.key, $0.value) } } }

    /// Stops refresh threads of authorizers no current snapshot uses.
    public func retire(keeping live: [JWTAuthorizer]) {
        let ids = Set(live.map { ObjectIdentifier($0) })
        let retired = state.withLock { s -> [JWTAuthorizer] in
            let gone = s.authorizers.filter { !ids.contains(ObjectIdentifier($0.value)) }
            for (key, _) in gone { s.authorizers[key] = nil }
            return Array(gone.values)
        }
        for a in retired { a.shutdown() }
    }

    /// At exit: stop refreshers, write quota counts.
    public func close() {
        let (authorizers, store) = state.withLock { s in (Array(s.authorizers.values), s.store) }
        for a in authorizers { a.shutdown() }
        store?.close()
    }
}

