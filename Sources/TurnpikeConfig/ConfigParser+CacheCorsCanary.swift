import Yams

/// CORS, deployments, canaries and the stage response cache.
extension ConfigParser {
    // MARK: CORS

    static let corsKeys = ["allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials"]
    /// The methods `allowMethods` may name, besides `*`.
    private static let corsMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    /// apigatewayv2 `Cors.MaxAge` is an `IntegerWithLengthBetweenMinus1And86400`.
    static let corsMaxAgeRange = -1...86400

    func corsConfiguration(_ fields: ObjectReader) -> CorsConfiguration {
        var seenOrigins = UniqueNames()
        let origins: [CorsOrigin] = fields.list("allowOrigins").compactMap { path, node in
            guard let text = log.string(node, path) else { return nil }
            guard let origin = Self.corsOrigin(text) else {
                log.add(path, at: node, "an origin is \"*\", scheme://host[:port], scheme://* or "
                    + "scheme://*.domain[:port] (no path, no trailing \"/\"), got \"\(text)\"")
                return nil
            }
            guard seenOrigins.claim(origin.text, "origin", path, at: node.mark, log: log) else { return nil }
            return origin
        }
        let methods: [String] = fields.list("allowMethods").compactMap { path, node in
            guard let text = log.string(node, path) else { return nil }
            let method = text.uppercased()
            guard method == "*" || Self.corsMethods.contains(method) else {
                log.add(path, at: node, "unknown method \"\(text)\" (expected \(Self.corsMethods.joined(separator: ", ")) or *)")
                return nil
            }
            return method
        }
        let allowCredentials = fields.bool("allowCredentials", default: false)
        if allowCredentials, origins.contains(.any) {
            // AWS's words (CreateApi/UpdateApi answer 400 BadRequestException with them).
            log.add(fields.path.key("allowCredentials"), at: fields.mark(of: "allowCredentials"),
                    "allow-credentials is not supported if 'allow-origin' is * (list the allowed origins instead)")
        }
        return CorsConfiguration(
            allowOrigins: origins,
            allowMethods: methods,
            allowHeaders: corsHeaderNames(fields, "allowHeaders"),
            exposeHeaders: corsHeaderNames(fields, "exposeHeaders"),
            maxAge: fields.optionalInt("maxAge", in: Self.corsMaxAgeRange),
            allowCredentials: allowCredentials
        )
    }

    private func corsHeaderNames(_ fields: ObjectReader, _ key: String) -> [String] {
        fields.list(key).compactMap { path, node in
            guard let text = log.string(node, path) else { return nil }
            guard text == "*" || Self.isHeaderName(text) else {
                log.add(path, at: node, "expected a header name or \"*\", got \"\(text)\"")
                return nil
            }
            return text.lowercased()
        }
    }

    /// `*`; `scheme://*` (AWS); `scheme://*.domain[:port]` (subdomains); or `scheme://host[:port]`.
    static func corsOrigin(_ text: String) -> CorsOrigin? {
        if text == "*" { return .any }
        let lower = text.lowercased()
        if lower.hasSuffix("://*"), let scheme = CorsOrigin.parts(of: lower.dropLast() + "x")?.scheme {
            return .anyHost(scheme: scheme)
        }
        guard let parts = CorsOrigin.parts(of: lower) else { return nil }
        var host = Substring(parts.host)
        let wildcard = host.hasPrefix("*.")
        if wildcard { host = host.dropFirst(2) }
        guard isOriginHost(host) else { return nil }
        if wildcard {
            guard !host.hasPrefix("["), host.contains(where: { !$0.isASCIIDigit && $0 != "." }) else { return nil }
            return .subdomains(scheme: parts.scheme, domain: String(host), port: parts.port)
        }
        return .exact(parts.scheme + "://" + host + (parts.port.map { ":\($0)" } ?? ""))
    }

    /// A DNS name (labels of letters, digits and `-`), an IPv4 address, or a bracketed IPv6 address.
    private static func isOriginHost(_ host: Substring) -> Bool {
        if host.hasPrefix("[") {
            return host.hasSuffix("]") && host.count > 2
                && host.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCIILetterOrDigit || $0 == "-" }
        }
    }

    /// An HTTP field name (RFC 9110 token).
    static func isHeaderName(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCIILetterOrDigit || "!#$%&'*+-.^_`|~".contains($0) }
    }

    // MARK: deployments

    func deployments(
        _ api: ObjectReader, apiName: String, targetGroupNames: IntegrationTargetNames, authorizerTypes: [String: String]
    ) -> [Deployment] {
        var ids = UniqueNames()
        var deployments: [Deployment] = []
        for (path, node) in api.list("deployments") {
            guard let fields = ObjectReader(
                node, path, log: log, keys: ["deploymentId", "description", "routes", "integrations"]
            ) else { continue }
            var id = ""
            if let text = fields.requiredString("deploymentId"), let idNode = fields.node("deploymentId") {
                if RouteSyntax.isApiId(text) {
                    if ids.claim(text, "deployment id", path.key("deploymentId"), at: idNode.mark, log: log) { id = text }
                } else {
                    log.add(path.key("deploymentId"), at: idNode,
                            "a deployment id is 1 to 64 characters of a-z and 0-9, got \"\(text)\"")
                }
            }
            let integrations = self.integrations(fields, targetGroupNames: targetGroupNames)
            let owner = id.isEmpty ? "this deployment" : "deployment \"\(id)\""
            let routes = self.routes(
                fields, owner: owner, integrationNames: Set(integrations.map(\.name)), authorizerTypes: authorizerTypes)
            guard !id.isEmpty else { continue }
            deployments.append(Deployment(
                id: id, description: fields.string("description"), routes: routes, integrations: integrations))
        }
        return deployments
    }

    /// A stage's or canary's `deploymentId`: the deployment it names, or nil (with an issue when it names none).
    private func deploymentReference(
        _ fields: ObjectReader, apiName: String, deployments: [Deployment]
    ) -> Deployment? {
        guard let node = fields.node("deploymentId"), let id = log.string(node, fields.path.key("deploymentId")) else {
            return nil
        }
        if let deployment = deployments.first(where: { $0.id == id }) { return deployment }
        let known = deployments.map { "\"\($0.id)\"" }.joined(separator: ", ")
        log.add(fields.path.key("deploymentId"), at: node, "names no deployment of api \"\(apiName)\": \"\(id)\""
            + (known.isEmpty ? " (the api has no deployments)" : " (deployments: \(known))"))
        return nil
    }

    /// The deployment a stage serves; nil for the api's current routes.
    func stageDeployment(
        _ stage: ObjectReader, apiName: String, autoDeploy: Bool, deployments: [Deployment]
    ) -> Deployment? {
        if autoDeploy, stage.node("deploymentId") != nil {
            log.add(stage.path.key("deploymentId"), at: stage.mark(of: "deploymentId"),
                    "a stage with autoDeploy: true serves the api's current routes; remove deploymentId or autoDeploy")
            return nil
        }
        return deploymentReference(stage, apiName: apiName, deployments: deployments)
    }

    // MARK: canary

    static let canaryKeys = ["deploymentId", "percentTraffic", "stageVariableOverrides", "useStageCache", "sticky"]

    func canarySettings(_ fields: ObjectReader, apiName: String, deployments: [Deployment]) -> CanarySettings {
        if fields.node("deploymentId") == nil {
            log.add(fields.path.key("deploymentId"), at: fields.mark(of: "deploymentId"),
                    "missing required key \"deploymentId\" (the deployment the canary serves)")
        }
        let deployment = deploymentReference(fields, apiName: apiName, deployments: deployments)
        var percent = 0.0
        if let node = fields.node("percentTraffic"),
           let value = log.number(node, fields.path.key("percentTraffic"), minimum: 0) {
            if value <= 100 {
                percent = value
            } else {
                log.add(fields.path.key("percentTraffic"), at: node, "must be at most 100, got \(node.string ?? "")")
            }
        }
        return CanarySettings(
            deploymentId: deployment?.id ?? "",
            percentTraffic: percent,
            stageVariableOverrides: stageVariables(fields.entries("stageVariableOverrides")),
            useStageCache: fields.bool("useStageCache", default: false),
            sticky: fields.object("sticky", keys: ["header", "cookie"]).flatMap(canaryStickiness)
        )
    }

    private func canaryStickiness(_ fields: ObjectReader) -> CanaryStickiness? {
        let header = fields.node("header"), cookie = fields.node("cookie")
        guard (header == nil) != (cookie == nil) else {
            log.add(fields.path, at: fields.mark,
                    "sticky takes exactly one of header: NAME or cookie: NAME"
                        + (header == nil ? "" : ", not both"))
            return nil
        }
        let key = header == nil ? "cookie" : "header"
        guard let node = header ?? cookie, let name = log.string(node, fields.path.key(key)) else { return nil }
        guard Self.isHeaderName(name) else {
            log.add(fields.path.key(key), at: node, "expected a \(key) name, got \"\(name)\"")
            return nil
        }
        return header == nil ? .cookie(name) : .header(name.lowercased())
    }

    // MARK: stage cache

    /// The stage's cache fields; `enabled` says whether `cacheClusterEnabled` is true.
    func stageCache(_ stage: ObjectReader) -> (enabled: Bool, settings: StageCacheSettings) {
        let enabled = stage.bool("cacheClusterEnabled", default: false)
        let sizeNode = stage.node("cacheClusterSize"), bytesNode = stage.node("cacheCapacityBytes")
        var capacity = CacheCapacity.clusterSize(.gb0_5)
        let size: CacheClusterSize = stage.choice("cacheClusterSize", default: .gb0_5)
        if sizeNode != nil { capacity = .clusterSize(size) }
        if let bytesNode, let bytes = log.int(bytesNode, stage.path.key("cacheCapacityBytes"), in: 1...Int.max) {
            if sizeNode != nil {
                log.add(stage.path.key("cacheCapacityBytes"), at: stage.mark(of: "cacheCapacityBytes"),
                        "give cacheClusterSize (AWS's sizes in GB) or cacheCapacityBytes, not both")
            } else {
                capacity = .bytes(bytes)
            }
        }
        var statusHeader = StageCacheSettings.defaultStatusHeader
        if let node = stage.node("cacheStatusHeader"), let text = log.string(node, stage.path.key("cacheStatusHeader")) {
            if Self.isHeaderName(text) {
                statusHeader = text.lowercased()
            } else {
                log.add(stage.path.key("cacheStatusHeader"), at: node, "expected a header name, got \"\(text)\"")
            }
        }
        var scopes = StageCacheSettings.defaultInvalidationScopes
        if stage.node("cacheInvalidationScopes") != nil {
            scopes = stage.list("cacheInvalidationScopes").compactMap { path, node in
                guard let text = log.string(node, path) else { return nil }
                guard !text.isEmpty, !text.contains(where: \.isWhitespace) else {
                    log.add(path, at: node, "a scope is a non-empty word without spaces, got \"\(text)\"")
                    return nil
                }
                return text
            }
        }
        return (enabled, StageCacheSettings(
            capacity: capacity,
            cacheStatusHeader: statusHeader,
            requireAuthorizationForCacheControl: stage.bool("requireAuthorizationForCacheControl", default: true),
            unauthorizedCacheControlHeaderStrategy: stage.choice(
                "unauthorizedCacheControlHeaderStrategy", default: .succeedWithResponseHeader),
            cacheInvalidationScopes: scopes
        ))
    }

    // MARK: stage route settings

    /// A stage's `defaultRouteSettings` and `routeSettings`: throttles and resolved cache settings.
    func stageRouteSettings(
        _ stage: ObjectReader, apiName: String, routeKeys: [String], owner: String?,
        cache: (enabled: Bool, settings: StageCacheSettings)
    ) -> (defaultThrottle: ThrottleSettings?, throttles: [String: ThrottleSettings],
          defaultCache: RouteCacheSettings, caches: [String: RouteCacheSettings]) {
        let stageBase = RouteCacheSettings(
            requireAuthorizationForCacheControl: cache.settings.requireAuthorizationForCacheControl,
            unauthorizedCacheControlHeaderStrategy: cache.settings.unauthorizedCacheControlHeaderStrategy)
        var defaultThrottle: ThrottleSettings?
        var defaultCache = stageBase
        if let settings = stage.object(
            "defaultRouteSettings", keys: Self.routeSettingsKeys, unsupported: Self.unsupportedRouteSettingsKeys
        ) {
            defaultThrottle = routeSettingsThrottle(settings)
            defaultCache = routeCacheFields(settings, route: .defaultSettings, stageCache: cache.enabled)
                .resolved(over: stageBase)
        }
        var seen = UniqueNames()
        var throttles: [String: ThrottleSettings] = [:]
        var caches: [String: RouteCacheSettings] = [:]
        for entry in stage.entries("routeSettings") {
            let key = routeKeyReference(entry, apiName: apiName, routeKeys: routeKeys, owner: owner)
            if let key { seen.claim(key, "route key", entry.path, at: entry.keyNode.mark, log: log) }
            guard let settings = ObjectReader(
                entry.value, entry.path, log: log, keys: Self.routeSettingsKeys,
                unsupported: Self.unsupportedRouteSettingsKeys
            ) else { continue }
            if let throttle = routeSettingsThrottle(settings), let key { throttles[key] = throttle }
            let fields = routeCacheFields(
                settings, route: key.map { .route($0) } ?? .unknown, stageCache: cache.enabled)
            if let key, !fields.isEmpty { caches[key] = fields.resolved(over: defaultCache) }
        }
        return (defaultThrottle, throttles, defaultCache, caches)
    }

    /// Which route a `RouteSettings` object applies to, for checking path cache key parameters.
    enum RouteSettingsScope {
        case defaultSettings
        case route(String)
        /// The entry's route key is invalid (already reported).
        case unknown
    }

    private func routeCacheFields(_ settings: ObjectReader, route: RouteSettingsScope, stageCache: Bool) -> RouteCacheFields {
        var fields = RouteCacheFields()
        if let node = settings.node("cachingEnabled"), let value = log.bool(node, settings.path.key("cachingEnabled")) {
            fields.cachingEnabled = value
            if value, !stageCache {
                log.add(settings.path.key("cachingEnabled"), at: node,
                        "caching needs the stage's cache: set cacheClusterEnabled: true on the stage")
            }
        }
        fields.cacheTtlInSeconds = settings.optionalInt("cacheTtlInSeconds", in: 0...3600)
        if settings.node("cacheKeyParameters") != nil {
            fields.cacheKeyParameters = cacheKeyParameters(settings, route: route)
        }
        if let node = settings.node("cacheDataEncrypted") {
            fields.cacheDataEncrypted = log.bool(node, settings.path.key("cacheDataEncrypted"))
        }
        if let node = settings.node("requireAuthorizationForCacheControl") {
            fields.requireAuthorizationForCacheControl = log.bool(node, settings.path.key("requireAuthorizationForCacheControl"))
        }
        if settings.node("unauthorizedCacheControlHeaderStrategy") != nil {
            let known = settings.node("unauthorizedCacheControlHeaderStrategy")?.string
                .flatMap(UnauthorizedCacheControlHeaderStrategy.init(rawValue:))
            let value: UnauthorizedCacheControlHeaderStrategy = settings.choice(
                "unauthorizedCacheControlHeaderStrategy", default: .succeedWithResponseHeader)
            if known != nil { fields.unauthorizedCacheControlHeaderStrategy = value }
        }
        return fields
    }

    private static let cacheKeyForms = [
        "method.request.path.NAME", "method.request.querystring.NAME", "method.request.header.NAME",
    ]

    private func cacheKeyParameters(_ settings: ObjectReader, route: RouteSettingsScope) -> [CacheKeyParameter] {
        var seen = UniqueNames()
        return settings.list("cacheKeyParameters").compactMap { path, node in
            guard let text = log.string(node, path) else { return nil }
            func name(after prefix: String) -> String? {
                text.hasPrefix(prefix) && text.count > prefix.count ? String(text.dropFirst(prefix.count)) : nil
            }
            let parameter: CacheKeyParameter
            if let header = name(after: "method.request.header."), Self.isHeaderName(header) {
                parameter = .header(header.lowercased())
            } else if let query = name(after: "method.request.querystring."),
                      !query.contains(where: { $0.isWhitespace || "&=#".contains($0) }) {
                parameter = .querystring(query)
            } else if let variable = name(after: "method.request.path."),
                      variable.allSatisfy({ $0.isNameCharacter || $0 == "-" || $0 == "." }) {
                switch route {
                case .defaultSettings:
                    log.add(path, at: node, "a path cache key parameter belongs to a route: put \"\(text)\" "
                        + "in routeSettings for the routes with {\(variable)}")
                    return nil
                case let .route(routeKey):
                    let variables = Self.pathVariables(of: routeKey)
                    guard variables.contains(variable) else {
                        log.add(path, at: node, "route \"\(routeKey)\" has no path variable \"\(variable)\""
                            + (variables.isEmpty ? " (it has none)" : " (it has \(variables.joined(separator: ", ")))"))
                        return nil
                    }
                case .unknown:
                    break
                }
                parameter = .path(variable)
            } else {
                log.add(path, at: node, "invalid cache key parameter \"\(text)\"; expected one of "
                    + Self.cacheKeyForms.joined(separator: ", "))
                return nil
            }
            guard seen.claim(parameter.text, "cache key parameter", path, at: node.mark, log: log) else { return nil }
            return parameter
        }
    }

    /// The names of a route key's path variables: `{name}` and `{name+}` (without the `+`).
    static func pathVariables(of routeKey: String) -> [String] {
        guard let path = routeKey.split(separator: " ").last, routeKey != "$default" else { return [] }
        return path.split(separator: "/").compactMap { segment in
            guard segment.hasPrefix("{"), segment.hasSuffix("}") else { return nil }
            var name = segment.dropFirst().dropLast()
            if name.hasSuffix("+") { name = name.dropLast() }
            return String(name)
        }
    }
}

/// The cache fields one `RouteSettings` object writes; absent ones are inherited.
struct RouteCacheFields {
    var cachingEnabled: Bool?
    var cacheTtlInSeconds: Int?
    var cacheKeyParameters: [CacheKeyParameter]?
    var cacheDataEncrypted: Bool?
    var requireAuthorizationForCacheControl: Bool?
    var unauthorizedCacheControlHeaderStrategy: UnauthorizedCacheControlHeaderStrategy?

    var isEmpty: Bool {
        cachingEnabled == nil && cacheTtlInSeconds == nil && cacheKeyParameters == nil && cacheDataEncrypted == nil
            && requireAuthorizationForCacheControl == nil && unauthorizedCacheControlHeaderStrategy == nil
    }

    func resolved(over base: RouteCacheSettings) -> RouteCacheSettings {
        RouteCacheSettings(
            cachingEnabled: cachingEnabled ?? base.cachingEnabled,
            cacheTtlInSeconds: cacheTtlInSeconds ?? base.cacheTtlInSeconds,
            cacheKeyParameters: cacheKeyParameters ?? base.cacheKeyParameters,
            cacheDataEncrypted: cacheDataEncrypted ?? base.cacheDataEncrypted,
            requireAuthorizationForCacheControl: requireAuthorizationForCacheControl
                ?? base.requireAuthorizationForCacheControl,
            unauthorizedCacheControlHeaderStrategy: unauthorizedCacheControlHeaderStrategy
                ?? base.unauthorizedCacheControlHeaderStrategy)
    }
}
