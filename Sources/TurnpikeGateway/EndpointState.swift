import Atomics
import Synchronization
import TurnpikeConfig

/// One upstream endpoint's shared state: its pool id and whether it may take traffic.
/// Shared by every worker and every config snapshot that names the same address, so a
/// reload keeps health and ejection state and the workers' pooled connections.
public final class EndpointState: Sendable {
    /// The shim's pool key.
    public let id: UInt32
    public let endpoint: Endpoint
    /// Spoken to over TLS (its pooled connections are TLS ones).
    public let secure: Bool
    /// Set by active health checks.
    private let healthy = ManagedAtomic<Bool>(true)
    /// Passive ejection: not used until this monotonic time (ns).
    private let ejectedUntil = ManagedAtomic<UInt64>(0)
    private let consecutiveFailures = ManagedAtomic<Int>(0)

    init(id: UInt32, endpoint: Endpoint, secure: Bool) {
        self.id = id
        self.endpoint = endpoint
        self.secure = secure
    }

    @inline(__always)
    public func isAvailable(nowNs: UInt64) -> Bool {
        healthy.load(ordering: .relaxed) && ejectedUntil.load(ordering: .relaxed) <= nowNs
    }

    public var isHealthy: Bool { healthy.load(ordering: .relaxed) }

    public func setHealthy(_ value: Bool) {
        healthy.store(value, ordering: .relaxed)
    }

    public func isEjected(nowNs: UInt64) -> Bool { ejectedUntil.load(ordering: .relaxed) > nowNs }

    /// Counts a failed exchange; returns true when it ejected the endpoint.
    public func recordFailure(policy: PassiveEjection?, nowNs: UInt64) -> Bool {
        guard let policy else { return false }
        let n = consecutiveFailures.wrappingIncrementThenLoad(ordering: .relaxed)
        if n >= policy.consecutiveFailures {
            consecutiveFailures.store(0, ordering: .relaxed)
            ejectedUntil.store(nowNs &+ UInt64(policy.ejectionSeconds) * 1_000_000_000, ordering: .relaxed)
            return true
        }
        return false
    }

    @inline(__always)
    public func recordSuccess() {
        if consecutiveFailures.load(ordering: .relaxed) != 0 {
            consecutiveFailures.store(0, ordering: .relaxed)
        }
    }

    /// Ends an ejection early (e.g. an active health check saw it recover).
    public func clearEjection() {
        ejectedUntil.store(0, ordering: .relaxed)
    }
}

/// Hands out one EndpointState per address for the life of the process. Used only at
/// config load, never on the request path.
public final class EndpointRegistry: Sendable {
    private struct Key: Hashable {
        var endpoint: Endpoint
        var secure: Bool
    }

    private let states = Mutex<[Key: EndpointState]>([:])

    public init() {}

    /// The same address over TLS and in the clear are two endpoints: their pooled
    /// connections must never mix.
    public func state(for endpoint: Endpoint, secure: Bool = false) -> EndpointState {
        states.withLock { states in
            let key = Key(endpoint: endpoint, secure: secure)
            if let s = states[key] { return s }
            let s = EndpointState(id: UInt32(states.count), endpoint: endpoint, secure: secure)
            states[key] = s
            return s
        }
    }

    public var all: [EndpointState] { states.withLock { Array($0.values) } }
}
