import Yams

extension ConfigParser {
    func integrations(_ api: ObjectReader, targetGroupNames: IntegrationTargetNames) -> [Integration] {
        var names = UniqueNames()
        var integrations: [Integration] = []
        for (path, node) in api.list("integrations") {
            guard let fields = ObjectReader(node, path, log: log, keys: [
                "name", "integrationType", "integrationUri", "integrationMethod", "timeoutInMillis",
                "payloadFormatVersion", "requestParameters", "responseParameters",
            ]) else { continue }
            let name = fields.requiredString("name") ?? ""
            if !name.isEmpty {
                names.claim(name, "integration name", path.key("name"), at: fields.node("name")?.mark, log: log)
            }
            let typeNode = fields.node("integrationType")
            if typeNode == nil {
                log.add(path.key("integrationType"), at: fields.mark, "missing required key \"integrationType\"")
            }
            let type: IntegrationType = fields.choice(
                "integrationType", default: .httpProxy, notYet: ["HTTP", "AWS", "MOCK"])
            // Only an HTTP_PROXY URI can be checked; others get their own issue above.
            let typeIsKnown = typeNode?.string.flatMap(IntegrationType.init(rawValue:)) != nil
            var uri = IntegrationURI(text: "", upstream: .stageDependent([]), pathAndQuery: [])
            var functionName: String?
            let uriText = fields.requiredString("integrationUri")
            if let text = uriText, type == .awsProxy, let uriNode = fields.node("integrationUri") {
                functionName = lambdaFunction(text, targetGroupNames.functions, path.key("integrationUri"), uriNode)
                uri = IntegrationURI(text: text, upstream: .stageDependent([]), pathAndQuery: [])
            } else if let text = uriText, typeIsKnown, let uriNode = fields.node("integrationUri") {
                switch IntegrationURISyntax.parse(text, targetGroups: targetGroupNames) {
                case let .success(parsed): uri = parsed
                case let .failure(error): log.add(path.key("integrationUri"), at: uriNode, error.message)
                }
            }
            var method: String?
            if let methodNode = fields.node("integrationMethod"),
               let text = log.string(methodNode, path.key("integrationMethod")) {
                if !RouteSyntax.methods.contains(text) {
                    log.add(path.key("integrationMethod"), at: methodNode,
                            "unknown method \"\(text)\" (expected \(RouteSyntax.methods.joined(separator: ", ")))")
                } else if text != "ANY" {
                    method = text
                }
            }
            var payloadFormatVersion: String?
            if let versionNode = fields.node("payloadFormatVersion"),
               let text = log.string(versionNode, path.key("payloadFormatVersion")) {
                if ["1.0", "2.0"].contains(text) {
                    payloadFormatVersion = text
                } else {
                    log.add(path.key("payloadFormatVersion"), at: versionNode, "expected \"1.0\" or \"2.0\", got \"\(text)\"")
                }
            }
            integrations.append(Integration(
                name: name,
                type: type,
                uri: uri,
                method: method,
                timeoutMillis: fields.int("timeoutInMillis", default: 29000, in: 50...300_000),
                payloadFormatVersion: payloadFormatVersion,
                requestParameters: fields.entries("requestParameters").compactMap { requestMapping($0) },
                responseParameters: responseParameters(fields),
                functionName: functionName
            ))
        }
        return integrations
    }

    /// The local function an AWS_PROXY URI names (with an issue when it names none).
    private func lambdaFunction(_ text: String, _ known: Set<String>, _ path: ConfigPath, _ node: Node) -> String? {
        guard let name = LambdaFunction.functionName(inIntegrationUri: text) else {
            log.add(path, at: node, "an AWS_PROXY integrationUri is function:NAME or a Lambda function ARN "
                + "(arn:aws:lambda:REGION:ACCOUNT:function:NAME), got \"\(text)\"")
            return nil
        }
        guard known.contains(name) else {
            let list = known.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            log.add(path, at: node, "names no function: \"\(name)\"" + (list.isEmpty ? " (no functions are configured)" : " (functions: \(list))"))
            return nil
        }
        return name
    }

    // MARK: parameter mappings

    private static let requestForms = [
        "overwrite:header.NAME", "append:header.NAME", "remove:header.NAME", "overwrite:querystring.NAME",
        "append:querystring.NAME", "remove:querystring.NAME", "overwrite:path",
    ]
    private static let responseForms = [
        "overwrite:statuscode", "overwrite:header.NAME", "append:header.NAME", "remove:header.NAME",
    ]

    private func requestMapping(_ entry: MapEntry) -> ParameterMapping? {
        guard let (action, target) = Self.mappingKey(entry.key, response: false) else {
            log.add(entry.path, at: entry.keyNode, "invalid request parameter key \"\(entry.key)\"; expected one of "
                + Self.requestForms.joined(separator: ", "))
            return nil
        }
        return mappingValue(entry, action: action, target: target)
    }

    private func responseParameters(_ integration: ObjectReader) -> [String: [ParameterMapping]] {
        var result: [String: [ParameterMapping]] = [:]
        for statusEntry in integration.entries("responseParameters") {
            guard statusEntry.key.count == 3, let status = Int(statusEntry.key), (200...599).contains(status) else {
                log.add(statusEntry.path, at: statusEntry.keyNode,
                        "expected a status code from 200 to 599 as the key, got \"\(statusEntry.key)\"")
                continue
            }
            let mappings = (log.entries(statusEntry.value, statusEntry.path) ?? []).compactMap { entry -> ParameterMapping? in
                guard let (action, target) = Self.mappingKey(entry.key, response: true) else {
                    log.add(entry.path, at: entry.keyNode, "invalid response parameter key \"\(entry.key)\"; expected one of "
                        + Self.responseForms.joined(separator: ", "))
                    return nil
                }
                return mappingValue(entry, action: action, target: target)
            }
            result[statusEntry.key] = mappings
        }
        return result
    }

    /// Splits `action:target` and checks the pair is one API Gateway allows.
    private static func mappingKey(_ key: String, response: Bool) -> (MappingAction, MappingTarget)? {
        guard let colon = key.firstIndex(of: ":"),
              let action = MappingAction(rawValue: String(key[..<colon])) else { return nil }
        let target = key[key.index(after: colon)...]
        func name(after prefix: String) -> String? {
            guard target.hasPrefix(prefix) else { return nil }
            let name = target.dropFirst(prefix.count)
            let token = "!#$%&'*+-.^_`|~"
            guard !name.isEmpty, name.allSatisfy({ $0.isASCIILetterOrDigit || token.contains($0) }) else { return nil }
            return String(name)
        }
        if let header = name(after: "header.") { return (action, .header(header.lowercased())) }
        if !response, let query = name(after: "querystring.") { return (action, .querystring(query)) }
        if !response, target == "path", action == .overwrite { return (action, .path) }
        if response, target == "statuscode", action == .overwrite { return (action, .statuscode) }
        return nil
    }

    private func mappingValue(_ entry: MapEntry, action: MappingAction, target: MappingTarget) -> ParameterMapping? {
        if action == .remove, entry.value.isNull {
            return ParameterMapping(action: action, target: target, value: ValueTemplate(text: "", parts: []))
        }
        guard let text = log.string(entry.value, entry.path) else { return nil }
        if action == .remove {
            guard text.isEmpty else {
                log.add(entry.path, at: entry.value, "a remove mapping takes the empty value \"\", got \"\(text)\"")
                return nil
            }
            return ParameterMapping(action: action, target: target, value: ValueTemplate(text: "", parts: []))
        }
        switch TemplateSyntax.parse(text, scope: .parameterMapping) {
        case let .success(template):
            if target == .statuscode, template.parts.allSatisfy({ if case .literal = $0 { true } else { false } }),
               !(Int(text).map { (100...599).contains($0) } ?? false) {
                log.add(entry.path, at: entry.value, "expected a status code from 100 to 599, got \"\(text)\"")
                return nil
            }
            return ParameterMapping(action: action, target: target, value: template)
        case let .failure(error):
            log.add(entry.path, at: entry.value, error.message)
            return nil
        }
    }
}
