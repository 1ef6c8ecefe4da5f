/// One validated, immutable configuration snapshot: everything the gateway serves.
public struct GatewayConfig: Sendable, Equatable {
    public let listeners: [Listener]
    public let settings: GatewaySettings
    public let targetGroups: [TargetGroup]
    public let apis: [ApiDefinition]
    public let domainNames: [DomainName]
    /// The file the snapshot was read from (absolute when loaded from disk).
    public let sourcePath: String
    /// JWT authorizers; routes name them in `authorizer`.
    public let authorizers: [JWTAuthorizerConfig]
    /// API keys; usage plans name them.
    public let apiKeys: [ApiKeyConfig]
    /// Usage plans: per-key throttles and quotas over api stages.
    public let usagePlans: [UsagePlanConfig]
    /// Local Lambda functions (extension); AWS_PROXY integrations name them.
    public let functions: [LambdaFunction]
    /// Lambda authorizers (REQUEST, TOKEN); routes with authorizationType CUSTOM name them.
    public let lambdaAuthorizers: [LambdaAuthorizerConfig]

    public init(
        listeners: [Listener], settings: GatewaySettings, targetGroups: [TargetGroup],
        apis: [ApiDefinition], domainNames: [DomainName], sourcePath: String,
        authorizers: [JWTAuthorizerConfig] = [], apiKeys: [ApiKeyConfig] = [], usagePlans: [UsagePlanConfig] = [],
        functions: [LambdaFunction] = [], lambdaAuthorizers: [LambdaAuthorizerConfig] = []
    ) {
        self.listeners = listeners
        self.settings = settings
        self.targetGroups = targetGroups
        self.apis = apis
        self.domainNames = domainNames
        self.sourcePath = sourcePath
        self.authorizers = authorizers
        self.apiKeys = apiKeys
        self.usagePlans = usagePlans
        self.functions = functions
        self.lambdaAuthorizers = lambdaAuthorizers
    }
}

/// A socket Turnpike listens on (extension): a public HTTP entry point or the admin endpoint.
public struct Listener: Sendable, Equatable {
    public let name: String
    /// A numeric IPv4 or IPv6 address ("localhost" is stored as "127.0.0.1").
    public let host: String
    public let port: Int
    public let protocolType: ListenerProtocol
    /// Serves /admin/health, /admin/reload and /metrics instead of APIs.
    public let admin: Bool
    /// The api that answers when the Host header matches no domain name or api id.
    public let defaultApi: String?
    /// HTTPS only: the certificate for clients without SNI (and, with `unknownServerName: DEFAULT`, unknown names).
    public let certificate: TLSCertificate?
    /// HTTPS only: what a client naming no configured domain gets.
    public let unknownServerName: UnknownServerNamePolicy
    /// HTTPS only: the oldest TLS version accepted.
    public let minimumTlsVersion: TLSVersion
    /// HTTP/2: offered in ALPN on HTTPS listeners (default on); on cleartext listeners, h2c
    /// with prior knowledge is accepted (default off).
    public let http2: Bool

    public init(
        name: String, host: String, port: Int, protocolType: ListenerProtocol,
        admin: Bool, defaultApi: String?, certificate: TLSCertificate? = nil,
        unknownServerName: UnknownServerNamePolicy = .refuse, minimumTlsVersion: TLSVersion = .tls12,
        http2: Bool? = nil
    ) {
        self.http2 = http2 ?? (protocolType == .https)
        self.name = name
        self.host = host
        self.port = port
        self.protocolType = protocolType
        self.admin = admin
        self.defaultApi = defaultApi
        self.certificate = certificate
        self.unknownServerName = unknownServerName
        self.minimumTlsVersion = minimumTlsVersion
    }
}

/// The wire protocol a listener speaks.
public enum ListenerProtocol: String, Sendable, Equatable, CaseIterable {
    /// Cleartext HTTP/1.1.
    case http = "HTTP"
    /// HTTP/1.1 over TLS, the certificate chosen by SNI among the domain names' certificates.
    case https = "HTTPS"
}

/// Process-wide limits and timeouts (extension); defaults follow AWS's limits.
public struct GatewaySettings: Sendable, Equatable {
    /// Worker threads; nil means one per core.
    public let workers: Int?
    public let maxRequestBodyBytes: Int
    public let maxRequestLineBytes: Int
    public let maxHeaderBytes: Int
    public let keepAliveTimeoutSeconds: Int
    public let headerTimeoutSeconds: Int
    public let drainTimeoutSeconds: Int
    public let upstreamIdleTimeoutSeconds: Int
    public let accessLog: AccessLogSettings
    /// The account-level throttle every request counts against (AWS: 10,000 rps, burst 5,000).
    public let throttle: ThrottleSettings
    /// Extension: a throttle per client IP address; nil means none.
    public let clientIpThrottle: ThrottleSettings?
    /// Extension: the SQLite file quota counts are kept in (resolved against the config file's folder).
    public let quotaStorePath: String
    /// Extension: HTTP/2 SETTINGS every HTTP/2 connection advertises.
    public let http2: HTTP2Settings

    /// The file name `quotaStorePath` defaults to, next to the config file.
    public static let defaultQuotaStoreFile = "turnpike-usage.sqlite"

    public static let defaults = GatewaySettings(
        workers: nil, maxRequestBodyBytes: 10_485_760, maxRequestLineBytes: 8192,
        maxHeaderBytes: 32768, keepAliveTimeoutSeconds: 75, headerTimeoutSeconds: 30,
        drainTimeoutSeconds: 30, upstreamIdleTimeoutSeconds: 60, accessLog: .disabled
    )

    public init(
        workers: Int?, maxRequestBodyBytes: Int, maxRequestLineBytes: Int, maxHeaderBytes: Int,
        keepAliveTimeoutSeconds: Int, headerTimeoutSeconds: Int, drainTimeoutSeconds: Int,
        upstreamIdleTimeoutSeconds: Int, accessLog: AccessLogSettings,
        throttle: ThrottleSettings = .accountDefault, clientIpThrottle: ThrottleSettings? = nil,
        quotaStorePath: String = GatewaySettings.defaultQuotaStoreFile, http2: HTTP2Settings = .defaults
    ) {
        self.http2 = http2
        self.workers = workers
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.keepAliveTimeoutSeconds = keepAliveTimeoutSeconds
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.drainTimeoutSeconds = drainTimeoutSeconds
        self.upstreamIdleTimeoutSeconds = upstreamIdleTimeoutSeconds
        self.accessLog = accessLog
        self.throttle = throttle
        self.clientIpThrottle = clientIpThrottle
        self.quotaStorePath = quotaStorePath
    }
}

/// HTTP/2 limits a connection announces in SETTINGS (the header list limit is maxHeaderBytes).
public struct HTTP2Settings: Sendable, Equatable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may have open at once.
    public let maxConcurrentStreams: Int
    /// SETTINGS_INITIAL_WINDOW_SIZE: request body bytes a stream may send ahead of the gateway.
    public let initialWindowSize: Int

    public static let defaults = HTTP2Settings(maxConcurrentStreams: 128, initialWindowSize: 65535)

    public init(maxConcurrentStreams: Int, initialWindowSize: Int) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
    }
}

/// Where and how access log lines are written (globally, or overridden per stage).
public struct AccessLogSettings: Sendable, Equatable {
    public let enabled: Bool
    public let destination: AccessLogDestination
    /// A `$context.NAME` template; nil means API Gateway's JSON format with `$context` names.
    public let format: ValueTemplate?

    public static let disabled = AccessLogSettings(enabled: false, destination: .stdout, format: nil)

    public init(enabled: Bool, destination: AccessLogDestination, format: ValueTemplate?) {
        self.enabled = enabled
        self.destination = destination
        self.format = format
    }
}

/// The sink of access log lines.
public enum AccessLogDestination: Sendable, Equatable {
    case stdout
    case stderr
    /// A file path, resolved against the config file's folder at load time.
    case file(path: String)
}
