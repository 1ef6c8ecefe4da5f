import Foundation
import Yams

/// Authorizers, route authorization, API keys, usage plans and throttles.
extension ConfigParser {
    // MARK: authorizers

    /// Authorizer types AWS has that are not implemented: named "not supported yet".
    private static let notYetAuthorizerTypes = ["COGNITO_USER_POOLS"]
    private static let authorizerTypeNotes = [
        "COGNITO_USER_POOLS": "use JWT with the user pool's issuer URL",
    ]
    /// Fields AWS has only on Lambda authorizers, reported on a JWT authorizer.
    private static let lambdaAuthorizerKeys = [
        "authorizerUri", "authorizerPayloadFormatVersion", "authorizerResultTtlInSeconds", "enableSimpleResponses",
        "authorizerCredentialsArn", "identityValidationExpression",
    ]

    /// The JWT and Lambda authorizers, and every named authorizer's type as written (for route checks).
    func authorizers(
        _ top: ObjectReader, functionNames: Set<String>
    ) -> ([JWTAuthorizerConfig], [LambdaAuthorizerConfig], [String: String]) {
        var names = UniqueNames()
        var types: [String: String] = [:]
        var authorizers: [JWTAuthorizerConfig] = []
        var lambdaAuthorizers: [LambdaAuthorizerConfig] = []
        for (path, node) in top.list("authorizers") {
            guard let fields = ObjectReader(
                node, path, log: log,
                keys: ["name", "authorizerType", "identitySource", "jwtConfiguration"] + Self.lambdaAuthorizerKeys
            ) else { continue }
            let name = fields.requiredString("name") ?? ""
            let nameIsNew = !name.isEmpty
                && names.claim(name, "authorizer name", path.key("name"), at: fields.node("name")?.mark, log: log)
            if fields.node("authorizerType") == nil {
                log.add(path.key("authorizerType"), at: fields.mark(of: "authorizerType"),
                        "missing required key \"authorizerType\"")
            }
            let typeText = fields.node("authorizerType").flatMap { $0.string }
            _ = fields.choice(
                "authorizerType", default: AuthorizerKind.jwt, notYet: Self.notYetAuthorizerTypes,
                notYetNotes: Self.authorizerTypeNotes)
            if nameIsNew, let typeText, AuthorizerKind(rawValue: typeText) != nil || Self.notYetAuthorizerTypes.contains(typeText) {
                types[name] = typeText
            }
            if let typeText, let kind = LambdaAuthorizerConfig.Kind(rawValue: typeText) {
                if fields.node("jwtConfiguration") != nil {
                    log.add(path.key("jwtConfiguration"), at: fields.mark(of: "jwtConfiguration"),
                            "\"jwtConfiguration\" belongs to JWT authorizers; a \(typeText) authorizer does not take it")
                }
                if let config = lambdaAuthorizer(fields, name: name, kind: kind, functionNames: functionNames), nameIsNew {
                    lambdaAuthorizers.append(config)
                }
                continue
            }
            guard typeText == "JWT" else { continue }
            for key in Self.lambdaAuthorizerKeys where fields.node(key) != nil {
                log.add(path.key(key), at: fields.mark(of: key),
                        "\"\(key)\" belongs to Lambda authorizers; a JWT authorizer does not take it")
            }
            let identitySource = jwtIdentitySource(fields)
            guard let jwt = fields.object("jwtConfiguration", keys: [
                "issuer", "audience", "jwksUri", "caBundle", "clockSkewSeconds", "jwksRefreshSeconds",
            ]) else {
                if fields.node("jwtConfiguration") == nil {
                    log.add(path.key("jwtConfiguration"), at: fields.mark(of: "jwtConfiguration"),
                            "missing required key \"jwtConfiguration\" (a JWT authorizer needs issuer and audience)")
                }
                continue
            }
            authorizers.append(JWTAuthorizerConfig(
                name: name,
                identitySource: identitySource,
                issuer: issuer(jwt) ?? "",
                audience: audience(jwt),
                jwks: jwksSource(jwt),
                caBundle: jwt.string("caBundle").flatMap { filePath($0, jwt.path.key("caBundle"), jwt.node("caBundle")) },
                clockSkewSeconds: jwt.int("clockSkewSeconds", default: 60, in: 0...600),
                jwksRefreshSeconds: jwt.int("jwksRefreshSeconds", default: 300, in: 1...86400)
            ))
        }
        return (authorizers, lambdaAuthorizers, types)
    }

    /// AWS: "For JWT, a single entry … only header-based and query parameter-based selections".
    private func jwtIdentitySource(_ authorizer: ObjectReader) -> JWTIdentitySource {
        let fallback = JWTIdentitySource.header("authorization")
        guard let listNode = authorizer.node("identitySource") else { return fallback }
        let items = authorizer.list("identitySource")
        guard case .sequence = listNode else { return fallback }
        guard items.count == 1 else {
            log.add(authorizer.path.key("identitySource"), at: listNode,
                    "a JWT authorizer takes exactly one identity source, got \(items.count)")
            return fallback
        }
        let (path, node) = items[0]
        guard let text = log.string(node, path) else { return fallback }
        let token = "!#$%&'*+-.^_`|~"
        func name(after prefix: String) -> String? {
            guard text.hasPrefix(prefix) else { return nil }
            let name = text.dropFirst(prefix.count)
            guard !name.isEmpty, name.allSatisfy({ $0.isASCIILetterOrDigit || token.contains($0) }) else { return nil }
            return String(name)
        }
        if let header = name(after: "$request.header.") { return .header(header.lowercased()) }
        if let query = name(after: "$request.querystring.") { return .queryString(query) }
        log.add(path, at: node,
                "a JWT authorizer reads the token from \"$request.header.NAME\" or \"$request.querystring.NAME\", got \"\(text)\"")
        return fallback
    }

    private func issuer(_ jwt: ObjectReader) -> String? {
        guard let text = jwt.requiredString("issuer"), let node = jwt.node("issuer") else { return nil }
        guard Self.isHTTPURL(text) else {
            log.add(jwt.path.key("issuer"), at: node, "expected an https:// or http:// URL, got \"\(text)\"")
            return nil
        }
        return text
    }

    private func audience(_ jwt: ObjectReader) -> [String] {
        let items = jwt.requiredList("audience")
        if let listNode = jwt.node("audience"), case .sequence = listNode, items.isEmpty {
            log.add(jwt.path.key("audience"), at: listNode, "a JWT authorizer needs at least one audience")
        }
        return items.compactMap { path, node in
            guard let text = log.string(node, path) else { return nil }
            guard !text.isEmpty else {
                log.add(path, at: node, "must not be empty")
                return nil
            }
            return text
        }
    }

    private func jwksSource(_ jwt: ObjectReader) -> JWKSSource {
        guard let node = jwt.node("jwksUri"), let text = log.string(node, jwt.path.key("jwksUri")) else {
            return .discovery
        }
        if text.hasPrefix("file://"), text.count > "file://".count {
            return .file(path: resolve(String(text.dropFirst("file://".count))))
        }
        if Self.isHTTPURL(text) { return .url(text) }
        log.add(jwt.path.key("jwksUri"), at: node,
                "expected file://PATH or an https:// or http:// URL, got \"\(text)\"")
        return .discovery
    }

    /// A path to a local file (a `file://` prefix is allowed), resolved against the config file's folder.
    private func filePath(_ text: String, _ path: ConfigPath, _ node: Node?) -> String? {
        let plain = text.hasPrefix("file://") ? String(text.dropFirst("file://".count)) : text
        guard !plain.isEmpty else {
            log.add(path, at: node?.mark, "expected a file path, got \"\(text)\"")
            return nil
        }
        return resolve(plain)
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard text.hasPrefix("https://") || text.hasPrefix("http://"),
              !text.contains(where: { $0.isWhitespace }),
              let url = URL(string: text), let host = url.host, !host.isEmpty else { return false }
        return true
    }

    // MARK: route authorization

    /// A route's `authorizationType`, `authorizer` and `authorizationScopes`, checked against the authorizers.
    func routeAccess(
        _ route: ObjectReader, authorizerTypes: [String: String]
    ) -> (type: AuthorizationType, authorizer: String?, scopes: [String]) {
        let path = route.path
        let typeText = route.node("authorizationType").flatMap { $0.string }
        let type: AuthorizationType = route.choice(
            "authorizationType", default: .none, notYet: ["AWS_IAM"],
            notYetNotes: ["AWS_IAM": "IAM authorization"])
        let scopes: [String] = route.list("authorizationScopes").compactMap { itemPath, node in
            guard let text = log.string(node, itemPath) else { return nil }
            guard !text.isEmpty else {
                log.add(itemPath, at: node, "must not be empty")
                return nil
            }
            return text
        }
        // An unknown or not-yet-supported type has its own issue; its authorizer is not checked.
        guard typeText.map({ AuthorizationType(rawValue: $0) != nil }) ?? true else { return (type, nil, scopes) }
        switch type {
        case .none:
            if route.node("authorizer") != nil {
                log.add(path.key("authorizer"), at: route.mark(of: "authorizer"),
                        "an authorizer is used only with authorizationType JWT or CUSTOM (this route's is NONE)")
            }
            if route.node("authorizationScopes") != nil {
                log.add(path.key("authorizationScopes"), at: route.mark(of: "authorizationScopes"),
                        "authorizationScopes are used only with authorizationType JWT (this route's is NONE)")
            }
            return (.none, nil, [])
        case .jwt:
            guard let nameNode = route.node("authorizer") else {
                log.add(path.key("authorizer"), at: route.mark(of: "authorizer"),
                        "missing required key \"authorizer\" (authorizationType JWT names a JWT authorizer)")
                return (.jwt, nil, scopes)
            }
            guard let name = log.string(nameNode, path.key("authorizer")) else { return (.jwt, nil, scopes) }
            if let kind = authorizerTypes[name] {
                if kind != "JWT" {
                    log.add(path.key("authorizer"), at: nameNode,
                            "authorizer \"\(name)\" is a \(kind) authorizer; authorizationType JWT needs a JWT authorizer")
                }
            } else {
                let known = authorizerTypes.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                log.add(path.key("authorizer"), at: nameNode, "names no authorizer: \"\(name)\""
                    + (known.isEmpty ? " (the file has no authorizers)" : " (authorizers: \(known))"))
            }
            return (.jwt, name, scopes)
        case .custom:
            guard let nameNode = route.node("authorizer") else {
                log.add(path.key("authorizer"), at: route.mark(of: "authorizer"),
                        "missing required key \"authorizer\" (authorizationType CUSTOM names a Lambda authorizer)")
                return (.custom, nil, scopes)
            }
            guard let name = log.string(nameNode, path.key("authorizer")) else { return (.custom, nil, scopes) }
            if let kind = authorizerTypes[name] {
                if kind != "REQUEST" && kind != "TOKEN" {
                    log.add(path.key("authorizer"), at: nameNode,
                            "authorizer \"\(name)\" is a \(kind) authorizer; authorizationType CUSTOM needs a REQUEST or TOKEN authorizer")
                }
            } else {
                let known = authorizerTypes.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                log.add(path.key("authorizer"), at: nameNode, "names no authorizer: \"\(name)\""
                    + (known.isEmpty ? " (the file has no authorizers)" : " (authorizers: \(known))"))
            }
            return (.custom, name, [])
        }
    }

    // MARK: stage route settings

    /// Keys of apigatewayv2 `RouteSettings` (and REST `MethodSetting` cache keys) that Turnpike
    /// implements (`detailedMetricsEnabled` and `cacheDataEncrypted` are accepted).
    static let routeSettingsKeys = [
        "throttlingBurstLimit", "throttlingRateLimit", "detailedMetricsEnabled", "cachingEnabled", "cacheTtlInSeconds",
        "cacheKeyParameters", "cacheDataEncrypted", "requireAuthorizationForCacheControl",
        "unauthorizedCacheControlHeaderStrategy",
    ]
    /// `RouteSettings` and REST `MethodSetting` keys not implemented yet.
    static let unsupportedRouteSettingsKeys = ["dataTraceEnabled", "loggingLevel"]

    /// The throttle of one `RouteSettings` object; nil when it sets none.
    func routeSettingsThrottle(_ settings: ObjectReader) -> ThrottleSettings? {
        _ = settings.bool("detailedMetricsEnabled", default: false)
        return throttle(settings, burstKey: "throttlingBurstLimit", rateKey: "throttlingRateLimit", optional: true)
    }

    /// A mapping key that must be a route key of the api; the normalised key, or nil with an issue.
    func routeKeyReference(
        _ entry: MapEntry, apiName: String, routeKeys: [String], owner: String? = nil
    ) -> String? {
        switch RouteSyntax.routeKey(entry.key) {
        case let .failure(error):
            log.add(entry.path, at: entry.keyNode, "invalid route key: \(error.message)")
            return nil
        case let .success(key):
            guard routeKeys.contains(key) else {
                let known = routeKeys.map { "\"\($0)\"" }.joined(separator: ", ")
                let owner = owner ?? "api \"\(apiName)\""
                log.add(entry.path, at: entry.keyNode, "names no route of \(owner): \"\(entry.key)\""
                    + (known.isEmpty ? " (the \(owner.prefix { $0 != " " }) has no routes)" : " (routes: \(known))"))
                return nil
            }
            return key
        }
    }

    /// A `{burstLimit, rateLimit}` pair (under the given key names). Both are required once either is
    /// given; with `optional`, giving neither means no throttle (nil, no issue).
    func throttle(_ fields: ObjectReader, burstKey: String, rateKey: String, optional: Bool = false) -> ThrottleSettings? {
        let burstNode = fields.node(burstKey), rateNode = fields.node(rateKey)
        if optional, burstNode == nil, rateNode == nil { return nil }
        for (key, node) in [(burstKey, burstNode), (rateKey, rateNode)] where node == nil {
            log.add(fields.path.key(key), at: fields.mark(of: key),
                    "missing required key \"\(key)\" (a throttle needs both \(burstKey) and \(rateKey))")
        }
        let burst = burstNode.flatMap { log.int($0, fields.path.key(burstKey), in: 0...Int.max) }
        let rate = rateNode.flatMap { log.number($0, fields.path.key(rateKey), minimum: 0) }
        guard let burst, let rate else { return nil }
        return ThrottleSettings(burstLimit: burst, rateLimit: rate)
    }

    // MARK: API keys

    /// AWS: an API key value is 20 to 128 characters.
    static let apiKeyValueLength = 20...128

    func apiKeys(_ top: ObjectReader) -> [ApiKeyConfig] {
        var names = UniqueNames()
        var ids: [String: String] = [:]
        var values: [String: String] = [:]
        var keys: [ApiKeyConfig] = []
        for (path, node) in top.list("apiKeys") {
            guard let fields = ObjectReader(
                node, path, log: log, keys: ["name", "id", "value", "valueFrom", "enabled", "description"]
            ) else { continue }
            let name = fields.requiredString("name") ?? ""
            let nameIsNew = !name.isEmpty
                && names.claim(name, "api key name", path.key("name"), at: fields.node("name")?.mark, log: log)
            let id = derivedId(fields, name: name, what: "an api key id")
            if nameIsNew {
                if let owner = ids[id] {
                    log.add(path.key("id"), at: fields.mark(of: "id"), "api key id \"\(id)\" is already used by api key \"\(owner)\"")
                } else {
                    ids[id] = name
                }
            }
            let (value, valueKey) = apiKeyValue(fields)
            if let value, nameIsNew {
                if let owner = values[value] {
                    log.add(path.key(valueKey), at: fields.mark(of: valueKey),
                            "api key \"\(name)\" has the same value as api key \"\(owner)\"; values must be unique")
                } else {
                    values[value] = name
                }
            }
            keys.append(ApiKeyConfig(
                id: id, name: name, value: value ?? "", enabled: fields.bool("enabled", default: true),
                description: fields.string("description")))
        }
        return keys
    }

    /// `value`, or `valueFrom: env:NAME`; the value (nil when invalid) and the key it came from.
    private func apiKeyValue(_ fields: ObjectReader) -> (String?, String) {
        let path = fields.path
        switch (fields.node("value"), fields.node("valueFrom")) {
        case (nil, nil):
            log.add(path.key("value"), at: fields.mark(of: "value"),
                    "missing required key \"value\" (or valueFrom: \"env:NAME\")")
            return (nil, "value")
        case (_?, _?):
            log.add(path.key("valueFrom"), at: fields.mark(of: "valueFrom"), "give either value or valueFrom, not both")
            return (nil, "value")
        case let (node?, nil):
            guard let text = log.string(node, path.key("value")) else { return (nil, "value") }
            if let problem = Self.apiKeyValueProblem(text) {
                log.add(path.key("value"), at: node, "an api key value is \(problem)")
                return (nil, "value")
            }
            return (text, "value")
        case let (nil, node?):
            guard let text = log.string(node, path.key("valueFrom")) else { return (nil, "valueFrom") }
            let variable = text.dropFirst("env:".count)
            guard text.hasPrefix("env:"), let first = variable.first, !first.isNumber,
                  variable.allSatisfy(\.isNameCharacter) else {
                log.add(path.key("valueFrom"), at: node, "expected \"env:NAME\" (an environment variable), got \"\(text)\"")
                return (nil, "valueFrom")
            }
            guard let value = environment[String(variable)] else {
                log.add(path.key("valueFrom"), at: node, "environment variable \"\(variable)\" is not set")
                return (nil, "valueFrom")
            }
            if let problem = Self.apiKeyValueProblem(value) {
                log.add(path.key("valueFrom"), at: node,
                        "environment variable \"\(variable)\" does not hold a valid api key value: an api key value is \(problem)")
                return (nil, "valueFrom")
            }
            return (value, "valueFrom")
        }
    }

    /// What is wrong with an api key value (never echoing the secret), or nil.
    private static func apiKeyValueProblem(_ value: String) -> String? {
        guard apiKeyValueLength.contains(value.count) else {
            return "\(apiKeyValueLength.lowerBound) to \(apiKeyValueLength.upperBound) characters, got \(value.count)"
        }
        guard value.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            return "visible ASCII characters only (no spaces), got other characters"
        }
        return nil
    }

    /// `id` as given ([a-z0-9]{1,64}), or the first ten hex digits of FNV-1a 64 of the name (as api ids).
    private func derivedId(_ fields: ObjectReader, name: String, what: String) -> String {
        var id = String(String(fnv1a64(name), radix: 16).leftPadded(to: 16).prefix(10))
        if let idNode = fields.node("id"), let text = log.string(idNode, fields.path.key("id")) {
            if RouteSyntax.isApiId(text) {
                id = text
            } else {
                log.add(fields.path.key("id"), at: idNode, "\(what) is 1 to 64 characters of a-z and 0-9, got \"\(text)\"")
            }
        }
        return id
    }

    // MARK: usage plans

    func usagePlans(_ top: ObjectReader, apis: [ApiDefinition], apiKeyNames: Set<String>) -> [UsagePlanConfig] {
        let apisByName = Dictionary(apis.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var names = UniqueNames()
        var ids: [String: String] = [:]
        /// "key\0api\0stage" → the plan that has the key on that stage.
        var keyStagePlans: [String: String] = [:]
        var plans: [UsagePlanConfig] = []
        for (path, node) in top.list("usagePlans") {
            guard let fields = ObjectReader(node, path, log: log, keys: [
                "name", "id", "description", "apiStages", "throttle", "quota", "apiKeys",
            ]) else { continue }
            let name = fields.requiredString("name") ?? ""
            let nameIsNew = !name.isEmpty
                && names.claim(name, "usage plan name", path.key("name"), at: fields.node("name")?.mark, log: log)
            let id = derivedId(fields, name: name, what: "a usage plan id")
            if nameIsNew {
                if let owner = ids[id] {
                    log.add(path.key("id"), at: fields.mark(of: "id"), "usage plan id \"\(id)\" is already used by usage plan \"\(owner)\"")
                } else {
                    ids[id] = name
                }
            }
            let stages = usagePlanStages(fields, apisByName: apisByName)
            var keyNames: [String] = []
            var seenKeys = UniqueNames()
            for (keyPath, keyNode) in fields.list("apiKeys") {
                guard let keyName = log.string(keyNode, keyPath) else { continue }
                guard apiKeyNames.contains(keyName) else {
                    let known = apiKeyNames.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                    log.add(keyPath, at: keyNode, "names no api key: \"\(keyName)\""
                        + (known.isEmpty ? " (the file has no apiKeys)" : " (api keys: \(known))"))
                    continue
                }
                guard seenKeys.claim(keyName, "api key", keyPath, at: keyNode.mark, log: log) else { continue }
                keyNames.append(keyName)
                guard nameIsNew else { continue }
                for stage in stages {
                    let slot = keyName + "\u{0}" + stage.apiName + "\u{0}" + stage.stageName
                    if let other = keyStagePlans[slot] {
                        log.add(keyPath, at: keyNode,
                                "api key \"\(keyName)\" is already in usage plan \"\(other)\" for api \"\(stage.apiName)\" stage "
                                    + "\"\(stage.stageName)\"; a key may be in only one usage plan per api stage")
                        break
                    }
                    keyStagePlans[slot] = name
                }
            }
            plans.append(UsagePlanConfig(
                id: id,
                name: name,
                description: fields.string("description"),
                apiStages: stages,
                throttle: fields.object("throttle", keys: ["burstLimit", "rateLimit"])
                    .flatMap { throttle($0, burstKey: "burstLimit", rateKey: "rateLimit") },
                quota: fields.object("quota", keys: ["limit", "period", "offset"]).flatMap(quota),
                apiKeyNames: keyNames
            ))
        }
        return plans
    }

    private func usagePlanStages(_ plan: ObjectReader, apisByName: [String: ApiDefinition]) -> [UsagePlanApiStage] {
        var seen = UniqueNames()
        var stages: [UsagePlanApiStage] = []
        for (path, node) in plan.list("apiStages") {
            guard let fields = ObjectReader(node, path, log: log, keys: ["api", "stage", "throttle"]) else { continue }
            let apiName = fields.requiredString("api") ?? ""
            let stageName = fields.requiredString("stage") ?? ""
            guard let apiNode = fields.node("api"), !apiName.isEmpty else { continue }
            guard let api = apisByName[apiName] else {
                let known = apisByName.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                log.add(path.key("api"), at: apiNode, "names no api: \"\(apiName)\""
                    + (known.isEmpty ? "" : " (apis: \(known))"))
                continue
            }
            guard let stageNode = fields.node("stage"), !stageName.isEmpty else { continue }
            guard api.stages.contains(where: { $0.name == stageName }) else {
                let known = api.stages.map { "\"\($0.name)\"" }.joined(separator: ", ")
                log.add(path.key("stage"), at: stageNode, "api \"\(apiName)\" has no stage \"\(stageName)\" (stages: \(known))")
                continue
            }
            guard seen.claim(apiName + " stage " + stageName, "api stage", path, at: fields.mark, log: log) else { continue }
            var routeThrottles: [String: ThrottleSettings] = [:]
            var seenRoutes = UniqueNames()
            for entry in fields.entries("throttle") {
                let key = routeKeyReference(entry, apiName: apiName, routeKeys: api.routes.map(\.routeKey))
                if let key { seenRoutes.claim(key, "route key", entry.path, at: entry.keyNode.mark, log: log) }
                guard let settings = ObjectReader(entry.value, entry.path, log: log, keys: ["burstLimit", "rateLimit"]),
                      let throttle = throttle(settings, burstKey: "burstLimit", rateKey: "rateLimit"),
                      let key else { continue }
                routeThrottles[key] = throttle
            }
            stages.append(UsagePlanApiStage(apiName: apiName, stageName: stageName, routeThrottles: routeThrottles))
        }
        return stages
    }

    private func quota(_ fields: ObjectReader) -> QuotaSettings? {
        let limit = fields.requiredInt("limit", in: 1...Int.max)
        if fields.node("period") == nil {
            log.add(fields.path.key("period"), at: fields.mark(of: "period"),
                    "missing required key \"period\" (DAY, WEEK or MONTH)")
        }
        let periodIsValid = fields.node("period").flatMap { $0.string }.flatMap(QuotaPeriodUnit.init(rawValue:)) != nil
        let period: QuotaPeriodUnit = fields.choice("period", default: .day)
        var offset = 0
        if let node = fields.node("offset"), let value = log.int(node, fields.path.key("offset"), in: 0...Int.max),
           periodIsValid {
            if period.offsetRange.contains(value) {
                offset = value
            } else {
                let allowed = switch period {
                case .day: "must be 0"
                case .week: "is 0 (Sunday) to 6 (Saturday)"
                case .month: "is 0 (the 1st) to 30 (the 31st)"
                }
                log.add(fields.path.key("offset"), at: node, "for period \(period.rawValue) the offset \(allowed), got \(value)")
            }
        }
        guard let limit, periodIsValid else { return nil }
        return QuotaSettings(limit: limit, period: period, offset: offset)
    }
}

/// The authorizer types implemented: only JWT.
private enum AuthorizerKind: String, CaseIterable {
    case jwt = "JWT"
    case request = "REQUEST"
    case token = "TOKEN"
}
