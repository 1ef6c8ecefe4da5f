import Atomics
import CTurnpikeShim

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why fetching keys failed; the old keys stay in use.
public enum JWKSFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    case fetchFailed(url: String, reason: String)
    case badStatus(url: String, status: Int)
    case badDiscoveryDocument(url: String, reason: String)
    case badJWKS(url: String, JWKSError)

    public var description: String {
        switch self {
        case .fetchFailed(let url, let reason): "GET \(url): \(reason)"
        case .badStatus(let url, let status): "GET \(url): status \(status)"
        case .badDiscoveryDocument(let url, let reason): "\(url): \(reason)"
        case .badJWKS(let url, let error): "\(url): \(error)"
        }
    }
}

/// The background thread that keeps a URL- or discovery-sourced key set fresh: a
/// fetch at start, one every `jwksRefreshSeconds` (sooner after a failure), and one
/// whenever a request names an unknown `kid` (rate limited by the caller). Worker
/// threads never wait for it: they only ever set a flag and signal.
final class JWKSRefresher: @unchecked Sendable {
    private let spec: JWTAuthorizerSpec
    private let keys: ManagedKeySet
    private let log: (@Sendable (String) -> Void)?
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by mutex.
    private var stopRequested = false
    private var refetchRequested = false
    private var thread: pthread_t?

    init(spec: JWTAuthorizerSpec, keys: ManagedKeySet, log: (@Sendable (String) -> Void)?) {
        self.spec = spec
        self.keys = keys
        self.log = log
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    func start() {
        var tid = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&tid, nil, { arg in
            let refresher = Unmanaged<JWKSRefresher>.fromOpaque(arg!).takeRetainedValue()
            refresher.run()
            return nil
        }, context)
        if created == 0 {
            pthread_mutex_lock(mutex)
            thread = tid
            pthread_mutex_unlock(mutex)
        } else {
            Unmanaged<JWKSRefresher>.fromOpaque(context).release()
            log?("authorizer \(spec.name): cannot start the JWKS refresh thread (error \(created))")
        }
    }

    /// Ends the thread, waiting for a fetch in progress (bounded by its timeout).
    func stop() {
        pthread_mutex_lock(mutex)
        stopRequested = true
        let running = thread
        thread = nil
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
        if let running { pthread_join(running, nil) }
    }

    /// Any thread: fetch again now (the caller rate-limits).
    func requestRefetch() {
        pthread_mutex_lock(mutex)
        refetchRequested = true
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Waits up to `seconds` for a refetch request or stop; true when stopping.
    private func wait(seconds: Int64) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        deadline.tv_sec += Int(seconds)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !stopRequested && !refetchRequested {
            if pthread_cond_timedwait(cond, mutex, &deadline) == ETIMEDOUT { break }
        }
        refetchRequested = false
        return stopRequested
    }

    private func run() {
        while true {
            let ok: Bool
            switch refreshNow() {
            case .success(let count):
                ok = true
                log?("authorizer \(spec.name): \(count) signing keys loaded")
            case .failure(let error):
                ok = false
                log?("authorizer \(spec.name): JWKS refresh failed, keeping the previous keys: \(error)")
            }
            let retry = max(1, min(spec.jwksRefreshSeconds, spec.unknownKidRefetchMinSeconds))
            if wait(seconds: ok ? max(1, spec.jwksRefreshSeconds) : retry) { return }
        }
    }

    /// Fetches (discovering `jwks_uri` first when configured so) and swaps the new
    /// key set in. Blocking: background threads only. Returns the key count.
    func refreshNow() -> Result<Int, JWKSFetchError> {
        let jwksURL: String
        switch spec.jwksSource {
        case .file: return .success(keys.load().keys.count)
        case .url(let url): jwksURL = url
        case .discovery:
            switch discoverJWKSURL() {
            case .success(let url): jwksURL = url
            case .failure(let error): return .failure(error)
            }
        }
        switch get(jwksURL) {
        case .failure(let error): return .failure(error)
        case .success(let body):
            switch KeySet.parse(body) {
            case .failure(let error): return .failure(.badJWKS(url: jwksURL, error))
            case .success(let set):
                keys.store(set)
                return .success(set.keys.count)
            }
        }
    }

    /// OpenID Connect Discovery 1.0 §4: the document's `issuer` must be the
    /// configured issuer, and its `jwks_uri` an http(s) URL.
    private func discoverJWKSURL() -> Result<String, JWKSFetchError> {
        let url = spec.discoveryURL
        switch get(url) {
        case .failure(let error): return .failure(error)
        case .success(let body):
            guard let document = JSONParser.parse(body), case .object = document else {
                return .failure(.badDiscoveryDocument(url: url, reason: "not a JSON object"))
            }
            if let issuer = document["issuer"], issuer != .string(spec.issuer) {
                return .failure(.badDiscoveryDocument(url: url, reason: "issuer differs from \(spec.issuer)"))
            }
            guard let jwks = document["jwks_uri"]?.stringValue,
                  jwks.hasPrefix("https://") || jwks.hasPrefix("http://") else {
                return .failure(.badDiscoveryDocument(url: url, reason: "no http(s) jwks_uri"))
            }
            return .success(jwks)
        }
    }

    private func get(_ url: String) -> Result<[UInt8], JWKSFetchError> {
        var status: UInt16 = 0
        var body: UnsafeMutablePointer<UInt8>?
        var length = 0
        let result = withOptionalCString(spec.caBundle) { ca in
            tp_fetch(url, ca, spec.fetchTimeoutMilliseconds, &status, &body, &length)
        }
        defer { tp_fetch_free(body) }
        guard result == 0, let body else {
            return .failure(.fetchFailed(url: url, reason: String(cString: tp_fetch_error_string(result))))
        }
        guard status == 200 else { return .failure(.badStatus(url: url, status: Int(status))) }
        return .success(Array(UnsafeBufferPointer(start: body, count: length)))
    }
}

private func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s else { return body(nil) }
    return s.withCString { body($0) }
}

/// The current key set of one authorizer, swapped whole by refreshes and read
/// lock-free by workers.
final class ManagedKeySet: Sendable {
    private let current: ManagedAtomic<KeySet>

    init(_ initial: KeySet) {
        current = ManagedAtomic(initial)
    }

    func load() -> KeySet { current.load(ordering: .acquiring) }

    func store(_ set: KeySet) { current.store(set, ordering: .releasing) }
}
