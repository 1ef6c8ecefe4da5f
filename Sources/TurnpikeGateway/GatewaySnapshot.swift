import TurnpikeAuth
import TurnpikeCache
import TurnpikeConfig
import TurnpikeCors
import TurnpikeLambda
import TurnpikeRouting
import TurnpikeTraffic

/// One configuration, compiled for the request path: route tables, selectors, upstream
/// choices resolved per stage, header bytes in wire form. Immutable; workers swap the
/// whole snapshot on reload and an exchange keeps the one it started with.
public final class GatewaySnapshot: Sendable {
    public let config: GatewayConfig
    public let generation: Int
    public let apis: [CompiledApi]
    public let targetGroups: [CompiledTargetGroup]
    /// One selector per listener (they differ only in their fallback API).
    public let selectors: [ApiSelector]
    public let responses = GatewayResponseTable()
    public let maxBodyBytes: Int64
    public let access: AccessControl
    /// Lower-cased names of domains with mutual TLS (a `*.` wildcard kept as written):
    /// they are served only over a connection whose SNI named them and whose client
    /// certificate was verified.
    public let mutualTLSDomains: [Int: [UInt8]]
    /// Lambda authorizers, indexed like config.lambdaAuthorizers.
    public let lambdaAuthorizers: [CompiledLambdaAuthorizer]
    /// Their results by identity source values, shared by every worker.
    public let authorizerCache = AuthorizerResultCache()

    public init(
        config: GatewayConfig, registry: EndpointRegistry, generation: Int,
        access stateRegistry: SharedStateRegistry = SharedStateRegistry(opensQuotaStore: false),
        nowEpochSeconds: Int64 = 0
    ) throws(SnapshotError) {
        self.config = config
        self.generation = generation
        maxBodyBytes = Int64(config.settings.maxRequestBodyBytes)
        let access = try AccessControl(config: config, registry: stateRegistry, nowEpochSeconds: nowEpochSeconds)
        self.access = access

        var lambdaAuthorizers: [CompiledLambdaAuthorizer] = []
        for (i, a) in config.lambdaAuthorizers.enumerated() {
            lambdaAuthorizers.append(try CompiledLambdaAuthorizer(a, id: i))
        }
        self.lambdaAuthorizers = lambdaAuthorizers

        var groups: [CompiledTargetGroup] = []
        var groupIndex: [String: Int] = [:]
        for group in config.targetGroups {
            groupIndex[group.name] = groups.count
            groups.append(CompiledTargetGroup(group: group, registry: registry))
        }
        // A fixed host:port in an integration URI is a target group of one endpoint.
        func fixedGroup(_ endpoint: Endpoint, _ https: Bool) -> Int {
            let name = "\(https ? "https://" : "")\(endpoint.host):\(endpoint.port)"
            if let i = groupIndex[name] { return i }
            groupIndex[name] = groups.count
            groups.append(CompiledTargetGroup(fixed: endpoint, name: name, https: https, registry: registry))
            return groups.count - 1
        }

        var apis: [CompiledApi] = []
        for api in config.apis {
            var stages: [CompiledStage] = []
            for stage in api.stages {
                var cache: StageCache? = nil
                if let settings = stage.cache {
                    cache = StageCache(
                        cache: stateRegistry.cache("\(api.apiId)/\(stage.name)", capacityBytes: settings.capacityBytes),
                        settings: settings)
                }
                func variant(_ deploymentId: String?, variables: [String: String], cached: Bool) throws(SnapshotError) -> StageVariant {
                    var routes = api.routes
                    var integrations = api.integrations
                    if let deploymentId {
                        guard let d = api.deployment(deploymentId) else {
                            throw SnapshotError(message: "api \(api.name) stage \(stage.name): unknown deployment \(deploymentId)")
                        }
                        routes = d.routes
                        integrations = d.integrations
                    }
                    return try StageVariant(
                        api: api, stage: stage, deploymentId: deploymentId, routes: routes,
                        integrations: integrations, variables: variables, cached: cached && cache != nil,
                        config: config, stateRegistry: stateRegistry, groupIndex: groupIndex, fixedGroup: fixedGroup)
                }
                let main = try variant(stage.deploymentId, variables: stage.variables, cached: true)
                var canary: CanaryVariant? = nil
                if let c = stage.canary {
                    let sticky: CanarySplitter.StickySource? = c.sticky.map {
                        switch $0 {
                        case .header(let name): .header(name)
                        case .cookie(let name): .cookie(name)
                        }
                    }
                    canary = CanaryVariant(
                        splitter: CanarySplitter(percentTraffic: c.percentTraffic, sticky: sticky),
                        variant: try variant(c.deploymentId, variables: c.stageVariables(over: stage.variables), cached: c.useStageCache))
                }
                stages.append(CompiledStage(stage: stage, main: main, canary: canary, cache: cache))
            }
            var cors: CorsPolicy? = nil
            if let c = api.corsConfiguration {
                do {
                    cors = try CorsPolicy(CorsSpec(
                        allowOrigins: c.allowOrigins.map(\.text), allowMethods: c.allowMethods,
                        allowHeaders: c.allowHeaders, exposeHeaders: c.exposeHeaders, maxAge: c.maxAge,
                        allowCredentials: c.allowCredentials))
                } catch {
                    throw SnapshotError(message: "api \(api.name): corsConfiguration: \(error.message)")
                }
            }
            apis.append(CompiledApi(
                name: api.name, apiId: api.apiId, stages: stages, cors: cors, isRest: api.protocolType == .rest,
                apiKeyFromAuthorizer: api.apiKeySource == .authorizer, binaryMediaTypes: api.binaryMediaTypes))
        }
        self.apis = apis
        targetGroups = groups

        let selectorApis = config.apis.map { api in
            ApiSelector.Api(apiId: api.disableExecuteApiEndpoint ? "" : api.apiId, stageNames: api.stages.map(\.name))
        }
        var domains: [ApiSelector.Domain] = []
        for domain in config.domainNames {
            var mappings: [ApiSelector.Mapping] = []
            for mapping in domain.mappings {
                guard let a = config.apis.firstIndex(where: { $0.name == mapping.apiName }),
                      let s = config.apis[a].stages.firstIndex(where: { $0.name == mapping.stageName })
                else {
                    throw SnapshotError(message: "domain \(domain.name): mapping to unknown api/stage \(mapping.apiName)/\(mapping.stageName)")
                }
                mappings.append(ApiSelector.Mapping(apiMappingKey: mapping.key, apiIndex: a, stageIndex: s))
            }
            domains.append(ApiSelector.Domain(domainName: domain.name, mappings: mappings))
        }
        var selectors: [ApiSelector] = []
        for listener in config.listeners {
            let fallback = listener.defaultApi.flatMap { name in config.apis.firstIndex { $0.name == name } }
            do {
                selectors.append(try ApiSelector(apis: selectorApis, domains: domains, fallbackApiIndex: fallback))
            } catch {
                throw SnapshotError(message: error.message)
            }
        }
        self.selectors = selectors
        var mtls: [Int: [UInt8]] = [:]
        for (i, d) in config.domainNames.enumerated() where d.truststorePath != nil {
            mtls[i] = Array(d.name.lowercased().utf8)
        }
        mutualTLSDomains = mtls
    }

    /// What a resolved request is served by.
    @inline(__always)
    public func variant(_ r: Resolution) -> StageVariant {
        apis[r.apiIndex].stages[r.stageIndex].variant(canary: r.canary)
    }

    @inline(__always)
    public func route(_ r: Resolution) -> CompiledRoute {
        variant(r).routes[r.routeIndex]
    }

    /// Every endpoint this snapshot may send to, once each.
    public var endpoints: [EndpointState] {
        var seen = Set<UInt32>()
        var out: [EndpointState] = []
        for group in targetGroups {
            for e in group.endpoints where seen.insert(e.id).inserted { out.append(e) }
        }
        return out
    }
}

/// Why a validated configuration could still not be compiled.
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

// The compiled pieces are classes: the request path reaches them through the snapshot,
// and handing one around costs one reference count, not one per field.

/// An API ready for matching: its stages, each with the routes it serves.
public final class CompiledApi: Sendable {
    public let name: String
    public let apiId: String
    public let stages: [CompiledStage]
    public let cors: CorsPolicy?
    /// A REST API (its own error wording, request id field and Lambda events).
    public let isRest: Bool
    /// `apiKeySource: AUTHORIZER`: API keys come from the Lambda authorizer's usageIdentifierKey.
    public let apiKeyFromAuthorizer: Bool
    /// REST: the media types Lambda proxy bodies travel base64-encoded for.
    public let binaryMediaTypes: [String]

    init(
        name: String, apiId: String, stages: [CompiledStage], cors: CorsPolicy?, isRest: Bool = false,
        apiKeyFromAuthorizer: Bool = false, binaryMediaTypes: [String] = []
    ) {
        self.binaryMediaTypes = binaryMediaTypes
        self.isRest = isRest
        self.apiKeyFromAuthorizer = apiKeyFromAuthorizer
        self.name = name
        self.apiId = apiId
        self.stages = stages
        self.cors = cors
    }
}

/// What one stage serves: a route table and its routes with their integrations resolved
/// for that stage's variables — the API's current definition, or a frozen deployment.
public final class StageVariant: Sendable {
    /// nil: the API's current routes and integrations.
    public let deploymentId: String?
    public let routeTable: RouteTable
    /// Indexed by the route table's payload.
    public let routes: [CompiledRoute]
    public let variables: [String: String]

    init(
        api: ApiDefinition, stage: Stage, deploymentId: String?, routes apiRoutes: [Route],
        integrations: [Integration], variables: [String: String], cached: Bool, config: GatewayConfig,
        stateRegistry: SharedStateRegistry, groupIndex: [String: Int], fixedGroup: (Endpoint, Bool) -> Int
    ) throws(SnapshotError) {
        self.deploymentId = deploymentId
        self.variables = variables
        let what = deploymentId.map { "api \(api.name) deployment \($0)" } ?? "api \(api.name)"
        do {
            routeTable = try RouteTable(routes: apiRoutes.enumerated().map { ($0.element.routeKey, $0.offset) })
        } catch {
            throw SnapshotError(message: "\(what): \(error.message)")
        }
        var routes: [CompiledRoute] = []
        for route in apiRoutes {
            guard let integration = integrations.first(where: { $0.name == route.integrationName }) else {
                throw SnapshotError(message: "\(what): route \(route.routeKey) targets unknown integration \(route.integrationName)")
            }
            let compiled = try StageIntegration(
                integration: integration, isRest: api.protocolType == .rest, stageName: stage.name, variables: variables,
                routeTable: routeTable,
                groupIndex: groupIndex, fixedGroup: fixedGroup)
            // HTTP APIs: a stage's route settings (or its defaults) limit each route on its own;
            // a canary shares its stage's limits.
            var bucket: GCRABucket? = nil
            if let t = stage.routeThrottles[route.routeKey] ?? stage.defaultRouteThrottle {
                bucket = try stateRegistry.bucket(
                    "route \(api.apiId)/\(stage.name)/\(route.routeKey)",
                    ThrottleSpec(burstLimit: t.burstLimit, rateLimit: t.rateLimit))
            }
            var authorizer: Int? = nil
            if route.authorizationType == .jwt, let name = route.authorizerName {
                guard let i = config.authorizers.firstIndex(where: { $0.name == name }) else {
                    throw SnapshotError(message: "\(what): route \(route.routeKey) names unknown authorizer \(name)")
                }
                authorizer = i
            }
            var access = RouteAccess(authorizer: authorizer, scopes: route.authorizationScopes, apiKeyRequired: route.apiKeyRequired)
            if route.authorizationType == .custom, let name = route.authorizerName {
                guard let i = config.lambdaAuthorizers.firstIndex(where: { $0.name == name }) else {
                    throw SnapshotError(message: "\(what): route \(route.routeKey) names unknown Lambda authorizer \(name)")
                }
                access.lambdaAuthorizer = i
            }
            var cachePlan: RouteCachePlan? = nil
            if cached {
                let method = route.routeKey.split(separator: " ").first.map(String.init) ?? "GET"
                let cachedMethod = method == "ANY" || method == "$default" ? "GET" : method
                if let settings = stage.cacheSettings(routeKey: route.routeKey, method: cachedMethod) {
                    cachePlan = RouteCachePlan(route: route, method: cachedMethod, settings: settings, routeTable: routeTable)
                }
            }
            routes.append(CompiledRoute(
                routeKey: route.routeKey, integration: compiled,
                access: access,
                bucket: bucket,
                planRouteIndex: api.routes.firstIndex { $0.routeKey == route.routeKey } ?? -1,
                cache: cachePlan,
                isExplicitOptions: route.routeKey.hasPrefix("OPTIONS ")))
        }
        self.routes = routes
    }
}

/// A route as one stage variant serves it.
public final class CompiledRoute: Sendable {
    public let routeKey: String
    public let integration: StageIntegration
    public let access: RouteAccess
    /// The route's throttle on this stage (its route settings, else the stage's defaults).
    public let bucket: GCRABucket?
    /// The route's index among the API's current routes, which usage plans' per-route
    /// limits refer to; -1 when the route exists only in a deployment.
    public let planRouteIndex: Int
    /// How this route's responses are cached on this stage; nil: not cached.
    public let cache: RouteCachePlan?
    /// An `OPTIONS /path` route: its preflights go to the integration, not to CORS.
    public let isExplicitOptions: Bool

    init(
        routeKey: String, integration: StageIntegration, access: RouteAccess, bucket: GCRABucket?,
        planRouteIndex: Int, cache: RouteCachePlan?, isExplicitOptions: Bool
    ) {
        self.routeKey = routeKey
        self.integration = integration
        self.access = access
        self.bucket = bucket
        self.planRouteIndex = planRouteIndex
        self.cache = cache
        self.isExplicitOptions = isExplicitOptions
    }
}

/// A stage: its name, variables and what it serves.
public final class CompiledStage: Sendable {
    public let name: String
    public let variables: [String: String]
    public let accessLog: AccessLogSettings?
    public let main: StageVariant
    public let canary: CanaryVariant?
    public let cache: StageCache?

    init(stage: Stage, main: StageVariant, canary: CanaryVariant?, cache: StageCache?) {
        name = stage.name
        variables = stage.variables
        accessLog = stage.accessLog
        self.main = main
        self.canary = canary
        self.cache = cache
    }

    /// What serves a request: the canary's deployment when it was chosen, else the stage's.
    @inline(__always)
    public func variant(canary chosen: Bool) -> StageVariant {
        chosen ? (canary?.variant ?? main) : main
    }
}

/// A stage's response cache (shared by every worker) and its cache-control rules.
public final class StageCache: Sendable {
    public let cache: ResponseCache
    public let statusHeader: [UInt8]
    public let invalidationScopes: [String]

    init(cache: ResponseCache, settings: StageCacheSettings) {
        self.cache = cache
        statusHeader = Array(settings.cacheStatusHeader.lowercased().utf8)
        invalidationScopes = settings.cacheInvalidationScopes
    }
}

/// How one route's responses are cached: the method cached, the TTL, the key's shape,
/// and who may bypass with `Cache-Control: max-age=0`.
public final class RouteCachePlan: Sendable {
    public let method: [UInt8]
    public let ttlNs: UInt64
    public let shape: CacheKeyShape
    /// For each key parameter in shape order: how to read its value.
    public let sources: [CacheKeySource]
    public let requireAuthorizationForCacheControl: Bool
    public let unauthorizedStrategy: UnauthorizedCacheControlHeaderStrategy

    init(route: Route, method: String, settings: RouteCacheSettings, routeTable: RouteTable) {
        self.method = Array(method.utf8)
        ttlNs = UInt64(settings.cacheTtlInSeconds) * 1_000_000_000
        let parameters: [TurnpikeCache.CacheKeyParameter] = settings.cacheKeyParameters.map {
            switch $0 {
            case .path(let n): TurnpikeCache.CacheKeyParameter(.pathParameter, name: n)
            case .querystring(let n): TurnpikeCache.CacheKeyParameter(.queryString, name: n)
            case .header(let n): TurnpikeCache.CacheKeyParameter(.header, name: n)
            }
        }
        let resourcePath = route.routeKey.split(separator: " ", maxSplits: 1).last.map(String.init) ?? route.routeKey
        shape = CacheKeyShape(resourcePath: resourcePath, parameters: parameters)
        sources = shape.parameters.map { p in
            let name = String(decoding: p.name, as: UTF8.self)
            switch p.kind {
            case .pathParameter: return .pathParameter(routeTable.parameterNames.firstIndex(of: name) ?? -1)
            case .queryString: return .queryString(name)
            case .header: return .header(Array(name.lowercased().utf8))
            }
        }
        requireAuthorizationForCacheControl = settings.requireAuthorizationForCacheControl
        unauthorizedStrategy = settings.unauthorizedCacheControlHeaderStrategy
    }
}

/// Where a cache key parameter's value comes from.
public enum CacheKeySource: Sendable {
    case pathParameter(Int)
    case queryString(String)
    case header([UInt8])
}

/// A stage's canary: the share of requests it takes and what it serves.
public final class CanaryVariant: Sendable {
    public let splitter: CanarySplitter
    public let variant: StageVariant

    init(splitter: CanarySplitter, variant: StageVariant) {
        self.splitter = splitter
        self.variant = variant
    }
}

/// A target group with its endpoints' shared state.
public final class CompiledTargetGroup: Sendable {
    public let name: String
    public let endpoints: [EndpointState]
    public let loadBalancing: LoadBalancing
    public let healthCheck: HealthCheck?
    public let passiveEjection: PassiveEjection?
    public let maxConnectionsPerEndpoint: Int
    public let maxIdle: UInt32
    public let connectTimeoutMillis: UInt32
    /// Requests in flight per pipelined upstream connection; 0: no pipelining.
    public let pipelineDepth: UInt32
    /// h2c toward the endpoints.
    public let http2: Bool
    /// TLS toward the endpoints; nil: plain HTTP.
    public let tls: UpstreamTLS?

    init(group: TargetGroup, registry: EndpointRegistry) {
        name = group.name
        endpoints = group.endpoints.map { registry.state(for: $0, secure: group.isHTTPS) }
        tls = group.isHTTPS ? (group.tls ?? UpstreamTLS()) : nil
        loadBalancing = group.loadBalancing
        healthCheck = group.healthCheck
        passiveEjection = group.passiveEjection
        maxConnectionsPerEndpoint = group.maxConnectionsPerEndpoint
        maxIdle = UInt32(group.maxIdleConnectionsPerEndpoint)
        connectTimeoutMillis = UInt32(group.connectTimeoutMillis)
        pipelineDepth = UInt32(group.pipelineDepth)
        http2 = group.http2
    }

    init(fixed endpoint: Endpoint, name: String, https: Bool, registry: EndpointRegistry) {
        self.name = name
        endpoints = [registry.state(for: endpoint, secure: https)]
        tls = https ? UpstreamTLS() : nil
        loadBalancing = .roundRobin
        healthCheck = nil
        passiveEjection = nil
        maxConnectionsPerEndpoint = 256
        maxIdle = 64
        connectTimeoutMillis = 3000
        pipelineDepth = 0
        http2 = false
    }
}

/// A piece of the upstream path, resolved for one stage.
public enum UpstreamPathPart: Sendable {
    case literal([UInt8])
    /// Index into the route table's parameter names.
    case pathParameter(Int)
}

/// A Lambda authorizer ready for requests: its validated steps and the function it invokes.
public struct CompiledLambdaAuthorizer: Sendable {
    public let authorizer: LambdaAuthorizer
    public let functionName: String

    init(_ config: LambdaAuthorizerConfig, id: Int) throws(SnapshotError) {
        // TOKEN is REST's; REQUEST without a payload version is REST's too (HTTP APIs name one).
        let format: LambdaAuthorizer.EventFormat = switch (config.kind, config.payloadFormatVersion) {
        case (.token, _): .restToken
        case (.request, nil): .restRequest
        case (.request, "1.0"?): .httpPayloadV1
        case (.request, _): .httpPayloadV2
        }
        do {
            authorizer = try LambdaAuthorizer(
                id: id, eventFormat: format, identitySource: config.identitySource,
                validationExpression: config.identityValidationExpression,
                enableSimpleResponses: config.enableSimpleResponses, ttlSeconds: config.resultTtlSeconds)
        } catch {
            throw SnapshotError(message: "authorizer \(config.name): \(error)")
        }
        functionName = config.functionName
    }
}

/// The function an AWS_PROXY integration invokes and the event format it gets.
public struct LambdaTarget: Sendable, Equatable {
    public let functionName: String
    public let format: PayloadFormat
    /// The event is a REST API's (header names as sent, path without the stage).
    public let isRest: Bool
}

/// An integration as one stage sends it: stage variables already substituted.
public final class StageIntegration: Sendable {
    public let name: String
    public let targetGroup: Int
    /// The Host header sent upstream (the URI's authority, like nginx's `$proxy_host`).
    public let hostHeader: [UInt8]
    /// Empty: the client's path (after base path and stage) passes through.
    public let pathParts: [UpstreamPathPart]
    public let passesClientPath: Bool
    /// The URI's own query string, without '?'; nil when it has none.
    public let uriQuery: [UInt8]?
    public let method: [UInt8]?
    public let timeoutMillis: UInt32
    public let requestParameters: [ParameterMapping]
    public let responseParameters: [String: [ParameterMapping]]
    /// True when some mapping touches the path or query string.
    public let mapsPathOrQuery: Bool
    /// AWS_PROXY: the function and payload format; nil for HTTP_PROXY.
    public let lambda: LambdaTarget?

    init(
        integration: Integration, isRest: Bool = false, stageName: String, variables: [String: String], routeTable: RouteTable,
        groupIndex: [String: Int], fixedGroup: (Endpoint, Bool) -> Int
    ) throws(SnapshotError) {
        name = integration.name
        timeoutMillis = UInt32(integration.timeoutMillis)
        requestParameters = integration.requestParameters
        responseParameters = integration.responseParameters
        if integration.type == .awsProxy {
            guard let function = integration.functionName else {
                throw SnapshotError(message: "integration \(integration.name): no function")
            }
            // REST APIs send payload 1.0 only; HTTP APIs 2.0 unless told otherwise.
            lambda = LambdaTarget(
                functionName: function,
                format: isRest || integration.payloadFormatVersion == "1.0" ? .v1 : .v2, isRest: isRest)
            targetGroup = -1
            hostHeader = []
            pathParts = []
            passesClientPath = true
            uriQuery = nil
            method = nil
            mapsPathOrQuery = false
            return
        }
        lambda = nil
        func stageVariable(_ n: String) throws(SnapshotError) -> String {
            guard let v = variables[n] else {
                throw SnapshotError(message: "integration \(integration.name): stage \(stageName) has no stage variable \(n)")
            }
            return v
        }
        switch integration.uri.upstream {
        case .targetGroup(let g):
            guard let i = groupIndex[g] else {
                throw SnapshotError(message: "integration \(integration.name): unknown target group \(g)")
            }
            targetGroup = i
            hostHeader = Array(g.utf8)
        case .endpoint(let e):
            targetGroup = fixedGroup(e, integration.uri.isHTTPS)
            hostHeader = Array((e.host.contains(":") ? "[\(e.host)]:\(e.port)" : "\(e.host):\(e.port)").utf8)
        case .stageDependent(let parts):
            var text = ""
            for part in parts {
                switch part {
                case .literal(let s): text += s
                case .stageVariable(let n): text += try stageVariable(n)
                case .pathParameter: throw SnapshotError(message: "integration \(integration.name): a path variable cannot name the host")
                }
            }
            if let i = groupIndex[text] {
                targetGroup = i
            } else if let e = Self.parseEndpoint(text) {
                targetGroup = fixedGroup(e, false)
            } else {
                throw SnapshotError(message: "integration \(integration.name): stage \(stageName) resolves the host to \"\(text)\", which is neither a target group nor host:port")
            }
            hostHeader = Array(text.utf8)
        }
        var parts: [UpstreamPathPart] = []
        var query: [UInt8]? = nil
        var literal: [UInt8] = []
        func flush() {
            if !literal.isEmpty { parts.append(.literal(literal)); literal = [] }
        }
        for part in integration.uri.pathAndQuery {
            let text: String
            switch part {
            case .literal(let s): text = s
            case .stageVariable(let n): text = try stageVariable(n)
            case .pathParameter(let n):
                guard query == nil else {
                    throw SnapshotError(message: "integration \(integration.name): path variables are not allowed in the query string")
                }
                guard let idx = routeTable.parameterNames.firstIndex(of: n) else {
                    throw SnapshotError(message: "integration \(integration.name): no route declares the path variable {\(n)}")
                }
                flush()
                parts.append(.pathParameter(idx))
                continue
            }
            for b in text.utf8 {
                if query != nil { query!.append(b) } else if b == UInt8(ascii: "?") { query = [] } else { literal.append(b) }
            }
        }
        flush()
        // "http://group" and "http://group/" both mean: pass the client's path through.
        if parts.isEmpty || (parts.count == 1 && { if case .literal(let l) = parts[0] { return l == [UInt8(ascii: "/")] } else { return false } }()) {
            parts = []
            passesClientPath = true
        } else {
            passesClientPath = false
        }
        pathParts = parts
        uriQuery = query
        method = integration.method.flatMap { $0 == "ANY" ? nil : Array($0.utf8) }
        mapsPathOrQuery = integration.requestParameters.contains {
            switch $0.target {
            case .path, .querystring: true
            default: false
            }
        }
    }

    static func parseEndpoint(_ text: String) -> Endpoint? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              port > 0, port < 65536
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { host = "127.0.0.1" }
        return Endpoint(host: host, port: port)
    }
}
