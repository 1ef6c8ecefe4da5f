import Yams

extension ConfigParser {
    func apis(
        _ top: ObjectReader, targetGroupNames: IntegrationTargetNames, authorizerTypes: [String: String]
    ) -> [ApiDefinition] {
        var names = UniqueNames()
        var ids: [String: String] = [:]
        var apis: [ApiDefinition] = []
        for (path, node) in top.list("apis") {
            guard let fields = ObjectReader(node, path, log: log, keys: [
                "name", "apiId", "protocolType", "description", "disableExecuteApiEndpoint",
                "integrations", "routes", "stages", "apiKeySource", "corsConfiguration", "deployments",
                "binaryMediaTypes",
            ]) else { continue }
            let name = fields.requiredString("name") ?? ""
            let nameIsNew = !name.isEmpty
                && names.claim(name, "api name", path.key("name"), at: fields.node("name")?.mark, log: log)
            var apiId = String(String(fnv1a64(name), radix: 16).leftPadded(to: 16).prefix(10))
            if let idNode = fields.node("apiId"), let text = log.string(idNode, path.key("apiId")) {
                if RouteSyntax.isApiId(text) {
                    apiId = text
                } else {
                    log.add(path.key("apiId"), at: idNode, "an api id is 1 to 64 characters of a-z and 0-9, got \"\(text)\"")
                }
            }
            if nameIsNew {
                if let owner = ids[apiId] {
                    log.add(path.key("apiId"), at: fields.mark(of: "apiId"), "api id \"\(apiId)\" is already used by api \"\(owner)\"")
                } else {
                    ids[apiId] = name
                }
            }
            let protocolType: ApiProtocolType = fields.choice("protocolType", default: .http, notYet: ["WEBSOCKET"])
            let apiKeySource: ApiKeySource = fields.choice("apiKeySource", default: .header)
            let integrations = self.integrations(fields, targetGroupNames: targetGroupNames)
            let routes = self.routes(
                fields, owner: "api \"\(name)\"", integrationNames: Set(integrations.map(\.name)),
                authorizerTypes: authorizerTypes)
            let cors = fields.object("corsConfiguration", keys: Self.corsKeys).map(corsConfiguration)
            let deployments = self.deployments(
                fields, apiName: name, targetGroupNames: targetGroupNames, authorizerTypes: authorizerTypes)
            let stages = self.stages(fields, apiName: name, routeKeys: routes.map(\.routeKey), deployments: deployments)
            if fields.node("stages").map({ if case .sequence = $0 { return true } else { return false } }) ?? true,
               stages.isEmpty {
                log.add(path.key("stages"), at: fields.node("stages")?.mark ?? fields.mark,
                        "an api needs at least one stage (e.g. stageName: $default)")
            }
            apis.append(ApiDefinition(
                name: name,
                apiId: apiId,
                protocolType: protocolType,
                description: fields.string("description"),
                integrations: integrations,
                routes: routes,
                stages: stages,
                disableExecuteApiEndpoint: fields.bool("disableExecuteApiEndpoint", default: false),
                apiKeySource: apiKeySource,
                corsConfiguration: cors,
                deployments: deployments,
                binaryMediaTypes: binaryMediaTypes(fields, protocolType: protocolType)
            ))
        }
        return apis
    }

    /// `binaryMediaTypes` (REST APIs): `type/subtype`, `type/*` or `*/*`.
    private func binaryMediaTypes(_ api: ObjectReader, protocolType: ApiProtocolType) -> [String] {
        guard let node = api.node("binaryMediaTypes") else { return [] }
        guard protocolType == .rest else {
            log.add(api.path.key("binaryMediaTypes"), at: node,
                    "binaryMediaTypes are for REST APIs (HTTP APIs base64-encode every non-text body)")
            return []
        }
        return api.list("binaryMediaTypes").compactMap { path, item in
            guard let text = log.string(item, path) else { return nil }
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                log.add(path, at: item, "expected a media type such as image/png, image/* or */*, got \"\(text)\"")
                return nil
            }
            return text.lowercased()
        }
    }

    // MARK: routes

    /// The `routes` of an api or a deployment (`owner` names it in issues, e.g. `api "shop"`).
    func routes(
        _ api: ObjectReader, owner: String, integrationNames: Set<String>, authorizerTypes: [String: String]
    ) -> [Route] {
        var keys = UniqueNames()
        var routes: [Route] = []
        for (path, node) in api.list("routes") {
            guard let fields = ObjectReader(node, path, log: log, keys: [
                "routeKey", "target", "authorizationType", "authorizer", "authorizationScopes", "apiKeyRequired",
            ]) else { continue }
            var routeKey = ""
            if let text = fields.requiredString("routeKey"), let keyNode = fields.node("routeKey") {
                switch RouteSyntax.routeKey(text) {
                case let .success(normalised):
                    routeKey = normalised
                    keys.claim(normalised, "route key", path.key("routeKey"), at: keyNode.mark, log: log)
                case let .failure(error):
                    log.add(path.key("routeKey"), at: keyNode, error.message)
                }
            }
            var integrationName = ""
            if let target = fields.requiredString("target"), let targetNode = fields.node("target") {
                integrationName = target.hasPrefix("integrations/") ? String(target.dropFirst("integrations/".count)) : target
                if !integrationNames.contains(integrationName) {
                    let known = integrationNames.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                    log.add(path.key("target"), at: targetNode,
                            "names no integration of \(owner): \"\(target)\""
                                + (known.isEmpty ? " (the \(owner.hasPrefix("api") ? "api" : "deployment") has no integrations)"
                                    : " (integrations: \(known))"))
                }
            }
            let access = routeAccess(fields, authorizerTypes: authorizerTypes)
            routes.append(Route(
                routeKey: routeKey, integrationName: integrationName, authorizationType: access.type,
                authorizerName: access.authorizer, authorizationScopes: access.scopes,
                apiKeyRequired: fields.bool("apiKeyRequired", default: false)))
        }
        return routes
    }

    // MARK: stages

    private static let stageKeys = [
        "stageName", "description", "autoDeploy", "stageVariables", "accessLogSettings",
        "defaultRouteSettings", "routeSettings", "deploymentId", "canarySettings",
        "cacheClusterEnabled", "cacheClusterSize", "cacheCapacityBytes", "cacheStatusHeader",
        "requireAuthorizationForCacheControl", "unauthorizedCacheControlHeaderStrategy", "cacheInvalidationScopes",
    ]

    private func stages(
        _ api: ObjectReader, apiName: String, routeKeys: [String], deployments: [Deployment]
    ) -> [Stage] {
        var names = UniqueNames()
        var stages: [Stage] = []
        for (path, node) in api.list("stages") {
            guard let fields = ObjectReader(node, path, log: log, keys: Self.stageKeys) else { continue }
            var name = ""
            if let text = fields.requiredString("stageName"), let nameNode = fields.node("stageName") {
                if RouteSyntax.isStageName(text) {
                    name = text
                    names.claim(text, "stage name", path.key("stageName"), at: nameNode.mark, log: log)
                } else {
                    log.add(path.key("stageName"), at: nameNode,
                            "a stage name is \"$default\" or 1 to 128 of A-Z a-z 0-9 _ -, got \"\(text)\"")
                }
            }
            let autoDeploy = fields.bool("autoDeploy", default: false)
            let deployment = stageDeployment(fields, apiName: apiName, autoDeploy: autoDeploy, deployments: deployments)
            let canary = fields.object("canarySettings", keys: Self.canaryKeys)
                .map { canarySettings($0, apiName: apiName, deployments: deployments) }
            // Route settings name the routes the stage serves, or its canary's.
            var servedRouteKeys = deployment?.routes.map(\.routeKey) ?? routeKeys
            var owner = deployment.map { "deployment \"\($0.id)\" of api \"\(apiName)\"" }
            if let canaryId = canary?.deploymentId, let extra = deployments.first(where: { $0.id == canaryId }),
               canaryId != deployment?.id {
                for key in extra.routes.map(\.routeKey) where !servedRouteKeys.contains(key) { servedRouteKeys.append(key) }
                owner = (owner ?? "api \"\(apiName)\"") + " or canary deployment \"\(canaryId)\""
            }
            let cache = stageCache(fields)
            let routeSettings = stageRouteSettings(
                fields, apiName: apiName, routeKeys: servedRouteKeys, owner: owner, cache: cache)
            stages.append(Stage(
                name: name,
                description: fields.string("description"),
                variables: stageVariables(fields.entries("stageVariables")),
                autoDeploy: autoDeploy,
                accessLog: fields.object("accessLogSettings", keys: ["destination", "format"])
                    .map { accessLogSettings($0, enabled: true) },
                defaultRouteThrottle: routeSettings.defaultThrottle,
                routeThrottles: routeSettings.throttles,
                deploymentId: deployment?.id,
                canary: canary,
                cache: cache.enabled ? cache.settings : nil,
                defaultRouteCacheSettings: routeSettings.defaultCache,
                routeCacheSettings: routeSettings.caches
            ))
        }
        return stages
    }

    /// Stage variables (or a canary's overrides): names of letters, digits and `_`; AWS's value characters.
    func stageVariables(_ entries: [MapEntry]) -> [String: String] {
        var variables: [String: String] = [:]
        for entry in entries {
            guard entry.key.allSatisfy(\.isNameCharacter), !entry.key.isEmpty else {
                log.add(entry.path, at: entry.keyNode,
                        "a stage variable name is letters, digits and \"_\", got \"\(entry.key)\"")
                continue
            }
            guard let value = log.string(entry.value, entry.path) else { continue }
            guard RouteSyntax.isStageVariableValue(value) else {
                log.add(entry.path, at: entry.value,
                        "a stage variable value must match [A-Za-z0-9-._~:/?#&=,]+, got \"\(value)\"")
                continue
            }
            variables[entry.key] = value
        }
        return variables
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
