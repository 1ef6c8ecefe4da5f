import TurnpikeConfig

/// Picks an endpoint of a target group for one worker: round robin or least
/// outstanding over the endpoints that are healthy, not ejected and under their
/// connection limit. Per-worker state, so it needs no locks.
public struct TargetGroupBalancer: Sendable {
    /// Round-robin cursor per target group index of the current snapshot.
    private var cursors: [Int] = []
    /// Exchanges in flight per endpoint id, on this worker.
    private var outstanding: [Int32] = []
    private var generation = -1

    public init() {}

    /// Forgets cursors when the snapshot changes (group indices may mean other groups).
    public mutating func adopt(_ snapshot: GatewaySnapshot) {
        guard snapshot.generation != generation else { return }
        generation = snapshot.generation
        cursors = Array(repeating: 0, count: snapshot.targetGroups.count)
    }

    public func outstanding(_ endpoint: EndpointState) -> Int32 {
        Int(endpoint.id) < outstanding.count ? outstanding[Int(endpoint.id)] : 0
    }

    public mutating func begin(_ endpoint: EndpointState) {
        let id = Int(endpoint.id)
        if id >= outstanding.count { outstanding.append(contentsOf: repeatElement(0, count: id + 1 - outstanding.count)) }
        outstanding[id] += 1
    }

    public mutating func end(_ endpoint: EndpointState) {
        let id = Int(endpoint.id)
        if id < outstanding.count && outstanding[id] > 0 { outstanding[id] -= 1 }
    }

    /// Nil when no endpoint may take the request (→ 503).
    public mutating func pick(
        group: CompiledTargetGroup, groupIndex: Int, nowNs: UInt64, excluding: UInt32? = nil
    ) -> EndpointState? {
        let endpoints = group.endpoints
        let n = endpoints.count
        if groupIndex >= cursors.count { cursors.append(contentsOf: repeatElement(0, count: groupIndex + 1 - cursors.count)) }
        let start = cursors[groupIndex]
        cursors[groupIndex] = (start + 1) % max(n, 1)
        var best: EndpointState? = nil
        var bestLoad = Int32.max
        for k in 0..<n {
            let e = endpoints[(start + k) % n]
            if e.id == excluding || !e.isAvailable(nowNs: nowNs) { continue }
            let load = outstanding(e)
            if load >= group.maxConnectionsPerEndpoint { continue }
            if group.loadBalancing == .roundRobin {
                // Continue after the endpoint chosen, so skipping one does not double its successor's share.
                cursors[groupIndex] = (start + k + 1) % n
                return e
            }
            if load < bestLoad {
                best = e
                bestLoad = load
                if load == 0 { break }
            }
        }
        return best
    }
}
