import CTurnpikeShim
import TurnpikeConfig
import TurnpikeGateway

/// Active health checks, run from worker 0's loop: a GET of the group's path to each
/// endpoint every interval; `healthyThreshold` successes in a row mark it healthy,
/// `unhealthyThreshold` failures in a row unhealthy. The verdict is an atomic flag in
/// EndpointState that every worker reads.
final class HealthChecker: @unchecked Sendable {
    private struct Probe {
        var endpoint: EndpointState
        var check: HealthCheck
        var tls: UpstreamTLS?
        var request: [UInt8]
        var nextDueNs: UInt64 = 0
        var successes = 0
        var failures = 0
        var inFlight = false
    }

    private var probes: [Probe] = []
    private var generation: UInt64 = 0

    func adopt(_ snapshot: GatewaySnapshot) {
        var old: [UInt32: Probe] = [:]
        for p in probes { old[p.endpoint.id] = p }
        generation &+= 1
        var next: [Probe] = []
        var seen = Set<UInt32>()
        for group in snapshot.targetGroups {
            guard let check = group.healthCheck else { continue }
            for endpoint in group.endpoints where seen.insert(endpoint.id).inserted {
                let host = endpoint.endpoint.host.contains(":") ? "[\(endpoint.endpoint.host)]" : endpoint.endpoint.host
                let request = Array("GET \(check.path) HTTP/1.1\r\nhost: \(host):\(endpoint.endpoint.port)\r\nuser-agent: turnpike-health-check\r\nconnection: close\r\n\r\n".utf8)
                var probe = Probe(endpoint: endpoint, check: check, tls: group.tls, request: request)
                if let prior = old[endpoint.id] {
                    probe.successes = prior.successes
                    probe.failures = prior.failures
                    probe.nextDueNs = prior.nextDueNs
                }
                next.append(probe)
            }
        }
        // Endpoints no longer checked take traffic again.
        for (id, p) in old where !seen.contains(id) { p.endpoint.setHealthy(true) }
        probes = next
    }

    func tick(worker: OpaquePointer, server: GatewayServer) {
        let now = tp_now_ns()
        for i in probes.indices where !probes[i].inFlight && now >= probes[i].nextDueNs {
            probes[i].inFlight = true
            probes[i].nextDueNs = now + UInt64(probes[i].check.intervalSeconds) * 1_000_000_000
            var target = tp_upstream_target()
            _ = tp_target_set_addr(&target, probes[i].endpoint.endpoint.host, UInt16(probes[i].endpoint.endpoint.port))
            target.timeout_ms = UInt32(probes[i].check.timeoutSeconds * 1000)
            if let spec = probes[i].tls {
                target.tls = server.upstreamTLSClient(spec, host: probes[i].endpoint.endpoint.host)?.pointer
            }
            let token = generation << 32 | UInt64(i)
            probes[i].request.withUnsafeBufferPointer {
                tp_worker_probe(worker, &target, $0.baseAddress, $0.count, token)
            }
        }
    }

    func result(token: UInt64, status: UInt16, server: GatewayServer) {
        guard token >> 32 == generation & 0xFFFF_FFFF else { return }
        let i = Int(token & 0xFFFF_FFFF)
        guard i < probes.count else { return }
        probes[i].inFlight = false
        let endpoint = probes[i].endpoint
        let name = "\(endpoint.endpoint.host):\(endpoint.endpoint.port)"
        if status >= 200 && status < 400 {
            probes[i].successes += 1
            probes[i].failures = 0
            if !endpoint.isHealthy && probes[i].successes >= probes[i].check.healthyThreshold {
                endpoint.setHealthy(true)
                endpoint.clearEjection()
                server.log("endpoint \(name) is healthy again")
            }
        } else {
            probes[i].failures += 1
            probes[i].successes = 0
            if endpoint.isHealthy && probes[i].failures >= probes[i].check.unhealthyThreshold {
                endpoint.setHealthy(false)
                server.log("endpoint \(name) failed \(probes[i].failures) health checks (status \(status)); taken out of rotation")
            }
        }
    }
}
