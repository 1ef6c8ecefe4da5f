import Yams

extension ConfigParser {
    func apis(
        _ top: ObjectReader, targetGroupNames: Set<String>, authorizerTypes: [String: String]
    ) -> [ApiDefinition] {
        var names = UniqueNames()
        var ids: [String: String] = [:]
        var apis: [ApiDefinition] = []
        for (path, node) in top.list("apis") {
            guard let fields = ObjectReader(node, path, log: log, keys: [
                "name", "apiId", "protocolType", "description", "disableExecuteApiEndpoint",
                "integrations", "routes", "stages", "apiKeySource",
            ], unsupported: ["corsConfiguration"]) else { continue }
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
            let protocolType: ApiProtocolType = fields.choice("protocolType", default: .http, notYet: ["REST", "WEBSOCKET"])
            let apiKeySource: ApiKeySource = fields.choice(
                "apiKeySource", default: .header, notYet: ["AUTHORIZER"], notYetNotes: ["AUTHORIZER": "Lambda authorizers"])
            let integrations = self.integrations(fields, targetGroupNames: targetGroupNames)
            let routes = self.routes(
                fields, apiName: name, integrationNames: Set(integrations.map(\.name)), authorizerTypes: authorizerTypes)
            let stages = self.stages(fields, apiName: name, routeKeys: routes.map(\.routeKey))
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
                apiKeySource: apiKeySource
            ))
        }
        return apis
    }

    // MARK: routes

    private func routes(
        _ api: ObjectReader, apiName: String, integrationNames: Set<String>, authorizerTypes: [String: String]
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
                            "names no integration of api \"\(apiName)\": \"\(target)\""
                                + (known.isEmpty ? " (the api has no integrations)" : " (integrations: \(known))"))
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

    private func stages(_ api: ObjectReader, apiName: String, routeKeys: [String]) -> [Stage] {
        var names = UniqueNames()
        var stages: [Stage] = []
        for (path, node) in api.list("stages") {
            guard let fields = ObjectReader(node, path, log: log, keys: [
                "stageName", "description", "autoDeploy", "stageVariables", "accessLogSettings",
                "defaultRouteSettings", "routeSettings",
            ], unsupported: [
                "cacheClusterEnabled", "cacheClusterSize", "canarySettings",
            ]) else { continue }
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
            var variables: [String: String] = [:]
            for entry in fields.entries("stageVariables") {
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
            stages.append(Stage(
                name: name,
                description: fields.string("description"),
                variables: variables,
                autoDeploy: fields.bool("autoDeploy", default: false),
                accessLog: fields.object("accessLogSettings", keys: ["destination", "format"])
                    .map { accessLogSettings($0, enabled: true) },
                defaultRouteThrottle: fields.object("defaultRouteSettings", keys: Self.routeSettingsKeys,
                                                    unsupported: Self.unsupportedRouteSettingsKeys)
                    .flatMap(routeSettingsThrottle),
                routeThrottles: routeThrottles(fields, apiName: apiName, routeKeys: routeKeys)
            ))
        }
        return stages
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
