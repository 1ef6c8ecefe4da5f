/// A named group of upstream endpoints ("VPC link") that HTTP_PROXY integrations send to.
public struct TargetGroup: Sendable, Equatable {
    public let name: String
    public let endpoints: [Endpoint]
    public let loadBalancing: LoadBalancing
    public let healthCheck: HealthCheck?
    public let maxConnectionsPerEndpoint: Int
    public let maxIdleConnectionsPerEndpoint: Int
    public let connectTimeoutMillis: Int
    public let passiveEjection: PassiveEjection?

    public init(
        name: String, endpoints: [Endpoint], loadBalancing: LoadBalancing, healthCheck: HealthCheck?,
        maxConnectionsPerEndpoint: Int, maxIdleConnectionsPerEndpoint: Int,
        connectTimeoutMillis: Int, passiveEjection: PassiveEjection?
    ) {
        self.name = name
        self.endpoints = endpoints
        self.loadBalancing = loadBalancing
        self.healthCheck = healthCheck
        self.maxConnectionsPerEndpoint = maxConnectionsPerEndpoint
        self.maxIdleConnectionsPerEndpoint = maxIdleConnectionsPerEndpoint
        self.connectTimeoutMillis = connectTimeoutMillis
        self.passiveEjection = passiveEjection
    }
}

/// One upstream address: a numeric IP (IPv6 without brackets) and a port.
public struct Endpoint: Sendable, Hashable {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// How a target group picks an endpoint for each request.
public enum LoadBalancing: String, Sendable, Equatable, CaseIterable {
    case roundRobin = "ROUND_ROBIN"
    case leastOutstanding = "LEAST_OUTSTANDING"
}

/// Active health checking: a GET of `path` every `intervalSeconds` on each endpoint.
public struct HealthCheck: Sendable, Equatable {
    public let path: String
    public let intervalSeconds: Int
    public let timeoutSeconds: Int
    public let healthyThreshold: Int
    public let unhealthyThreshold: Int

    public init(path: String, intervalSeconds: Int, timeoutSeconds: Int, healthyThreshold: Int, unhealthyThreshold: Int) {
        self.path = path
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.healthyThreshold = healthyThreshold
        self.unhealthyThreshold = unhealthyThreshold
    }
}

/// Passive ejection (extension): an endpoint failing `consecutiveFailures` times rests `ejectionSeconds`.
public struct PassiveEjection: Sendable, Equatable {
    public let consecutiveFailures: Int
    public let ejectionSeconds: Int

    public init(consecutiveFailures: Int, ejectionSeconds: Int) {
        self.consecutiveFailures = consecutiveFailures
        self.ejectionSeconds = ejectionSeconds
    }
}
