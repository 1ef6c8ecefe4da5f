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
    /// `protocol: HTTPS` (extension): the gateway speaks TLS to the endpoints (health checks included).
    public let isHTTPS: Bool
    /// HTTPS only: how the endpoints' certificates are verified and what the gateway presents;
    /// nil on an HTTPS group means `UpstreamTLS()` (the system trust store, SNI = the endpoint's host, no client certificate).
    public let tls: UpstreamTLS?
    /// `pipelineDepth` (extension): HTTP/1.1 pipelining toward the endpoints, up to this many
    /// bodiless GET/HEAD/OPTIONS requests in flight on one connection; 0 (the default) sends one
    /// request per connection at a time. HTTP groups only. With `http2`: streams per connection
    /// (0 means 100).
    public let pipelineDepth: Int
    /// `http2: true` (extension): every request goes to the endpoints as an HTTP/2 stream, many
    /// per connection: h2c with prior knowledge on an HTTP group, ALPN h2 on an HTTPS group.
    public let http2: Bool

    public init(
        name: String, endpoints: [Endpoint], loadBalancing: LoadBalancing, healthCheck: HealthCheck?,
        maxConnectionsPerEndpoint: Int, maxIdleConnectionsPerEndpoint: Int,
        connectTimeoutMillis: Int, passiveEjection: PassiveEjection?, isHTTPS: Bool = false, tls: UpstreamTLS? = nil,
        pipelineDepth: Int = 0, http2: Bool = false
    ) {
        self.name = name
        self.endpoints = endpoints
        self.loadBalancing = loadBalancing
        self.healthCheck = healthCheck
        self.maxConnectionsPerEndpoint = maxConnectionsPerEndpoint
        self.maxIdleConnectionsPerEndpoint = maxIdleConnectionsPerEndpoint
        self.connectTimeoutMillis = connectTimeoutMillis
        self.passiveEjection = passiveEjection
        self.isHTTPS = isHTTPS
        self.tls = tls
        self.pipelineDepth = pipelineDepth
        self.http2 = http2
    }
}

/// How the gateway connects to an HTTPS target group (extension): TLS 1.2 or 1.3, the peer's certificate
/// always verified (chain and name), SNI sent when the name is a DNS name.
public struct UpstreamTLS: Sendable, Equatable {
    /// Absolute path of the PEM bundle of CA certificates the endpoints' certificates must chain to;
    /// nil means the system's trust store.
    public let caBundlePath: String?
    /// Lowercased DNS name sent as SNI and that the certificate must match; nil means each endpoint's
    /// host (a numeric IP: no SNI is sent, and the certificate needs that IP in its subjectAltName).
    public let serverName: String?
    /// Presented when an endpoint asks for a client certificate (upstream mutual TLS); nil presents none.
    public let clientCertificate: TLSCertificate?

    public init(caBundlePath: String? = nil, serverName: String? = nil, clientCertificate: TLSCertificate? = nil) {
        self.caBundlePath = caBundlePath
        self.serverName = serverName
        self.clientCertificate = clientCertificate
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
