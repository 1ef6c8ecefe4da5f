/// One API (apigatewayv2 `Api`): its integrations, routes and stages.
public struct ApiDefinition: Sendable, Equatable {
    public let name: String
    /// Given in the file, or derived from the name so that it survives restarts.
    public let apiId: String
    public let protocolType: ApiProtocolType
    public let description: String?
    public let integrations: [Integration]
    public let routes: [Route]
    public let stages: [Stage]
    /// When true, `{apiId}.execute-api.*` hosts do not reach this api; only domain names do.
    public let disableExecuteApiEndpoint: Bool
    /// Where routes with `apiKeyRequired` read the API key from.
    public let apiKeySource: ApiKeySource
    /// The api's CORS configuration; nil means the gateway adds no CORS headers and answers no preflight.
    public let corsConfiguration: CorsConfiguration?
    /// Frozen snapshots of routes and integrations that stages and canaries may serve.
    public let deployments: [Deployment]
    /// REST APIs: media types (`image/png`, `image/*`, `*/*`) whose bodies Lambda proxy
    /// integrations exchange base64-encoded.
    public let binaryMediaTypes: [String]

    public init(
        name: String, apiId: String, protocolType: ApiProtocolType, description: String?,
        integrations: [Integration], routes: [Route], stages: [Stage], disableExecuteApiEndpoint: Bool,
        apiKeySource: ApiKeySource = .header, corsConfiguration: CorsConfiguration? = nil, deployments: [Deployment] = [],
        binaryMediaTypes: [String] = []
    ) {
        self.binaryMediaTypes = binaryMediaTypes
        self.name = name
        self.apiId = apiId
        self.protocolType = protocolType
        self.description = description
        self.integrations = integrations
        self.routes = routes
        self.stages = stages
        self.disableExecuteApiEndpoint = disableExecuteApiEndpoint
        self.apiKeySource = apiKeySource
        self.corsConfiguration = corsConfiguration
        self.deployments = deployments
    }

    /// The deployment with `id`, if the api has one.
    public func deployment(_ id: String) -> Deployment? {
        deployments.first { $0.id == id }
    }
}

/// The API flavour, which decides AWS-visible behaviour (error bodies, headers).
public enum ApiProtocolType: String, Sendable, Equatable, CaseIterable {
    case http = "HTTP"
    /// REST APIs: routes are resources and methods written as route keys; 403 Missing
    /// Authentication Token for unknown ones, x-amzn-RequestId, Lambda payload 1.0.
    case rest = "REST"
}

/// Where a route's requests go (apigatewayv2 `Integration`).
public struct Integration: Sendable, Equatable {
    /// Unique within its api; routes name it in `target`.
    public let name: String
    public let type: IntegrationType
    public let uri: IntegrationURI
    /// The upstream request's method; nil passes the client's method (also what "ANY" means).
    public let method: String?
    public let timeoutMillis: Int
    public let payloadFormatVersion: String?
    /// AWS_PROXY: the local function the URI names.
    public let functionName: String?
    /// Applied in order to the upstream request.
    public let requestParameters: [ParameterMapping]
    /// Keyed by the upstream status code ("200"..."599"), applied to matching responses.
    public let responseParameters: [String: [ParameterMapping]]

    public init(
        name: String, type: IntegrationType, uri: IntegrationURI, method: String?, timeoutMillis: Int,
        payloadFormatVersion: String?, requestParameters: [ParameterMapping],
        responseParameters: [String: [ParameterMapping]], functionName: String? = nil
    ) {
        self.name = name
        self.type = type
        self.uri = uri
        self.method = method
        self.timeoutMillis = timeoutMillis
        self.payloadFormatVersion = payloadFormatVersion
        self.functionName = functionName
        self.requestParameters = requestParameters
        self.responseParameters = responseParameters
    }
}

/// The kind of integration.
public enum IntegrationType: String, Sendable, Equatable, CaseIterable {
    case httpProxy = "HTTP_PROXY"
    /// Lambda proxy: the request as a payload 1.0/2.0 event to `functionName`.
    case awsProxy = "AWS_PROXY"
}

/// A parsed `http://` or `https://` integration URI: where to connect, and the request target to send.
public struct IntegrationURI: Sendable, Equatable {
    /// As written in the file.
    public let text: String
    public let upstream: Upstream
    /// Path and query after the authority ("" when the URI has none), with its variables.
    public let pathAndQuery: [URIPart]
    /// An `https://` URI: the upstream speaks TLS. For `.targetGroup` the group is HTTPS and its `tls` says how
    /// to verify it; for `.endpoint` the certificate is verified against the system trust store for the endpoint's
    /// host (a numeric IP: its subjectAltName must hold that IP; no SNI is sent). Never true for `.stageDependent`.
    public let isHTTPS: Bool

    public init(text: String, upstream: Upstream, pathAndQuery: [URIPart], isHTTPS: Bool = false) {
        self.text = text
        self.upstream = upstream
        self.pathAndQuery = pathAndQuery
        self.isHTTPS = isHTTPS
    }
}

/// The authority part of an integration URI.
public enum Upstream: Sendable, Equatable {
    /// A target group, named by the URI's host.
    case targetGroup(String)
    /// A fixed `host:port` (port 80 by default, 443 with `https://`).
    case endpoint(Endpoint)
    /// A `host:port` known only per stage, built from stage variables and literal text.
    case stageDependent([URIPart])
}

/// A piece of an integration URI.
public enum URIPart: Sendable, Equatable {
    case literal(String)
    /// `{name}` or `{name+}`: the route's path parameter of that name (without the `+`).
    case pathParameter(String)
    /// `${stageVariables.name}`.
    case stageVariable(String)
}

/// A route (apigatewayv2 `Route`): a route key and the integration it sends to.
public struct Route: Sendable, Equatable {
    /// `$default`, or `METHOD /path` with single spaces, e.g. `GET /pets/{petId}`.
    public let routeKey: String
    public let integrationName: String
    /// NONE (open) or JWT.
    public let authorizationType: AuthorizationType
    /// The JWT authorizer's name when `authorizationType` is JWT; nil otherwise.
    public let authorizerName: String?
    /// With JWT: the token needs at least one of these in its `scope`/`scp` claim; empty means no check.
    public let authorizationScopes: [String]
    /// Requests need a valid, enabled API key (extension on HTTP APIs; AWS has it on REST methods).
    public let apiKeyRequired: Bool

    public init(
        routeKey: String, integrationName: String, authorizationType: AuthorizationType = .none,
        authorizerName: String? = nil, authorizationScopes: [String] = [], apiKeyRequired: Bool = false
    ) {
        self.routeKey = routeKey
        self.integrationName = integrationName
        self.authorizationType = authorizationType
        self.authorizerName = authorizerName
        self.authorizationScopes = authorizationScopes
        self.apiKeyRequired = apiKeyRequired
    }
}

/// A stage (apigatewayv2 `Stage`): a named deployment of an api with its own variables.
public struct Stage: Sendable, Equatable {
    /// `$default` or `[A-Za-z0-9_-]{1,128}`.
    public let name: String
    public let description: String?
    public let variables: [String: String]
    public let autoDeploy: Bool
    /// Overrides the global access log for this stage; nil uses the global settings.
    public let accessLog: AccessLogSettings?
    /// `defaultRouteSettings`' throttle for every route of the stage; nil means none at this level.
    public let defaultRouteThrottle: ThrottleSettings?
    /// `routeSettings`' throttles, keyed by route key (normalised); they replace the default for their route.
    public let routeThrottles: [String: ThrottleSettings]
    /// The deployment the stage serves; nil serves the api's current routes and integrations
    /// (what `autoDeploy: true` means; the two are exclusive).
    public let deploymentId: String?
    /// A canary sharing the stage's traffic; nil means none.
    public let canary: CanarySettings?
    /// The stage's response cache; nil when `cacheClusterEnabled` is not true.
    public let cache: StageCacheSettings?
    /// `defaultRouteSettings`' cache fields, for routes without their own (resolved; see `RouteCacheSettings`).
    public let defaultRouteCacheSettings: RouteCacheSettings
    /// Per route key (normalised), for `routeSettings` entries that set a cache field; resolved over the default.
    public let routeCacheSettings: [String: RouteCacheSettings]

    public init(
        name: String, description: String?, variables: [String: String], autoDeploy: Bool, accessLog: AccessLogSettings?,
        defaultRouteThrottle: ThrottleSettings? = nil, routeThrottles: [String: ThrottleSettings] = [:],
        deploymentId: String? = nil, canary: CanarySettings? = nil, cache: StageCacheSettings? = nil,
        defaultRouteCacheSettings: RouteCacheSettings = .disabled, routeCacheSettings: [String: RouteCacheSettings] = [:]
    ) {
        self.name = name
        self.description = description
        self.variables = variables
        self.autoDeploy = autoDeploy
        self.accessLog = accessLog
        self.defaultRouteThrottle = defaultRouteThrottle
        self.routeThrottles = routeThrottles
        self.deploymentId = deploymentId
        self.canary = canary
        self.cache = cache
        self.defaultRouteCacheSettings = defaultRouteCacheSettings
        self.routeCacheSettings = routeCacheSettings
    }
}
