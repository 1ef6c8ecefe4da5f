import Foundation
import Yams

extension ConfigParser {
    /// `functions` (extension): local Lambda functions run as Runtime API process pools.
    func functions(_ top: ObjectReader) -> [LambdaFunction] {
        var names = UniqueNames()
        var functions: [LambdaFunction] = []
        for (path, node) in top.list("functions") {
            guard let fields = ObjectReader(node, path, log: log, keys: [
                "name", "command", "workingDirectory", "environment", "timeoutSeconds", "memorySize",
                "reservedConcurrency", "invokeEndpoint", "functionName", "region", "credentials",
            ]) else { continue }
            var name = fields.requiredString("name") ?? ""
            if !name.isEmpty, let nameNode = fields.node("name") {
                if LambdaFunction.functionName(inIntegrationUri: "function:" + name) != name {
                    log.add(path.key("name"), at: nameNode,
                            "a function name is 1 to 64 of A-Z a-z 0-9 - _, got \"\(name)\"")
                    name = ""
                } else {
                    names.claim(name, "function name", path.key("name"), at: nameNode.mark, log: log)
                }
            }
            let remote = remoteFunction(fields, name: name)
            var command: [String] = []
            if remote != nil, fields.node("command") != nil {
                log.add(path.key("command"), at: fields.mark(of: "command"),
                        "a function with an invokeEndpoint runs there; it takes no command")
            } else if fields.node("invokeEndpoint") != nil {
                // Its own issues were reported.
            } else if fields.node("command") == nil {
                log.add(path.key("command"), at: fields.mark(of: "command"), "missing required key \"command\"")
            }
            for (itemPath, item) in fields.list("command") {
                if let word = log.string(item, itemPath) { command.append(word) }
            }
            if fields.node("command") != nil, command.isEmpty || command[0].isEmpty {
                log.add(path.key("command"), at: fields.mark(of: "command"),
                        "expected the program and its arguments, e.g. [\"python3\", \"-m\", \"awslambdaric\", \"app.handler\"]")
            }
            var environment: [String: String] = [:]
            for entry in fields.entries("environment") {
                guard !entry.key.isEmpty, entry.key.allSatisfy(\.isNameCharacter),
                      !(entry.key.first?.isNumber ?? true) else {
                    log.add(entry.path, at: entry.keyNode,
                            "an environment variable name is letters, digits and \"_\", not starting with a digit, got \"\(entry.key)\"")
                    continue
                }
                if let value = log.string(entry.value, entry.path) { environment[entry.key] = value }
            }
            let function = LambdaFunction(
                name: name, command: command,
                workingDirectory: fields.string("workingDirectory").map(resolve) ?? (directory.isEmpty ? "." : directory),
                environment: environment,
                timeoutSeconds: fields.int("timeoutSeconds", default: 3, in: 1...900),
                memorySize: fields.int("memorySize", default: 128, in: 128...10240),
                reservedConcurrency: fields.int("reservedConcurrency", default: 10, in: 1...1000),
                remote: remote)
            // Only valid names can be referred to (an invalid one is reported above).
            if !name.isEmpty { functions.append(function) }
        }
        return functions
    }
}

extension ConfigParser {
    /// `invokeEndpoint` (extension): `http://HOST:PORT` of a Lambda Invoke API, with the
    /// remote `functionName`, `region` and optional `credentials` to sign with.
    func remoteFunction(_ fields: ObjectReader, name: String) -> RemoteFunction? {
        let path = fields.path
        guard let node = fields.node("invokeEndpoint") else {
            for key in ["functionName", "region", "credentials"] where fields.node(key) != nil {
                log.add(path.key(key), at: fields.mark(of: key), "\"\(key)\" is used only with invokeEndpoint")
            }
            return nil
        }
        guard let text = log.string(node, path.key("invokeEndpoint")) else { return nil }
        var rest = Substring(text)
        guard rest.hasPrefix("http://") else {
            log.add(path.key("invokeEndpoint"), at: node, "expected http://HOST:PORT, got \"\(text)\"")
            return nil
        }
        rest = rest.dropFirst("http://".count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let endpoint: Endpoint
        switch AddressSyntax.endpoint(String(rest)) {
        case .success(let e): endpoint = e
        case .failure(let error):
            log.add(path.key("invokeEndpoint"), at: node, error.message)
            return nil
        }
        var accessKeyId: String?, secret: String?, token: String?
        if let credentials = fields.object("credentials", keys: ["accessKeyId", "secretAccessKey", "sessionToken"]) {
            accessKeyId = credentials.requiredString("accessKeyId")
            secret = credentials.requiredString("secretAccessKey")
            token = credentials.string("sessionToken")
        }
        return RemoteFunction(
            host: endpoint.host, port: endpoint.port, functionName: fields.string("functionName") ?? name,
            region: fields.string("region") ?? "us-east-1", accessKeyId: accessKeyId, secretAccessKey: secret,
            sessionToken: token)
    }

    /// A REQUEST or TOKEN authorizer's fields; nil (with issues) when one is invalid.
    func lambdaAuthorizer(
        _ fields: ObjectReader, name: String, kind: LambdaAuthorizerConfig.Kind, functionNames: Set<String>
    ) -> LambdaAuthorizerConfig? {
        let path = fields.path
        var functionName: String?
        if let uri = fields.requiredString("authorizerUri"), let uriNode = fields.node("authorizerUri") {
            if let fn = LambdaFunction.functionName(inIntegrationUri: uri) {
                if functionNames.contains(fn) {
                    functionName = fn
                } else {
                    let list = functionNames.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                    log.add(path.key("authorizerUri"), at: uriNode, "names no function: \"\(fn)\""
                        + (list.isEmpty ? " (no functions are configured)" : " (functions: \(list))"))
                }
            } else {
                log.add(path.key("authorizerUri"), at: uriNode,
                        "an authorizerUri is function:NAME or a Lambda function ARN, got \"\(uri)\"")
            }
        }
        var version: String?
        if let node = fields.node("authorizerPayloadFormatVersion"),
           let text = log.string(node, path.key("authorizerPayloadFormatVersion")) {
            if kind == .token {
                log.add(path.key("authorizerPayloadFormatVersion"), at: node,
                        "a TOKEN authorizer (REST) has no payload format version")
            } else if text == "1.0" || text == "2.0" {
                version = text
            } else {
                log.add(path.key("authorizerPayloadFormatVersion"), at: node, "expected \"1.0\" or \"2.0\", got \"\(text)\"")
            }
        }
        // REST writes one comma-separated string, HTTP APIs a list.
        var sources: [String] = []
        if let node = fields.node("identitySource") {
            if case .sequence = node {
                for (itemPath, item) in fields.list("identitySource") {
                    if let text = log.string(item, itemPath) { sources.append(text) }
                }
            } else if let text = log.string(node, path.key("identitySource")) {
                sources = text.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) }
            }
        }
        let ttl = fields.int("authorizerResultTtlInSeconds", default: 300, in: 0...3600)
        let simple = fields.bool("enableSimpleResponses", default: false)
        let validation = fields.string("identityValidationExpression")
        // The rules the authorizer itself enforces, reported where they are written.
        if kind == .token, sources.count != 1 || !(sources.first?.hasPrefix("method.request.header.") ?? false) {
            log.add(path.key("identitySource"), at: fields.mark(of: "identitySource"),
                    "a TOKEN authorizer reads one header: \"method.request.header.NAME\"")
            return nil
        }
        for source in sources where !Self.isIdentitySource(source) {
            log.add(path.key("identitySource"), at: fields.mark(of: "identitySource"),
                    "unknown identity source \"\(source)\" (expected $request.header.NAME, $request.querystring.NAME, "
                        + "$context.NAME, $stageVariables.NAME, or REST's method.request.header.NAME forms)")
            return nil
        }
        if ttl > 0, sources.isEmpty {
            log.add(path.key("identitySource"), at: fields.mark(of: "identitySource"),
                    "caching authorizer results (authorizerResultTtlInSeconds > 0) needs at least one identity source")
            return nil
        }
        if simple, version != "2.0" {
            log.add(path.key("enableSimpleResponses"), at: fields.mark(of: "enableSimpleResponses"),
                    "simple responses need authorizerPayloadFormatVersion \"2.0\"")
            return nil
        }
        if validation != nil, kind != .token {
            log.add(path.key("identityValidationExpression"), at: fields.mark(of: "identityValidationExpression"),
                    "identityValidationExpression is for TOKEN authorizers only")
            return nil
        }
        guard let functionName else { return nil }
        return LambdaAuthorizerConfig(
            name: name, kind: kind, functionName: functionName, payloadFormatVersion: version, identitySource: sources,
            resultTtlSeconds: ttl, enableSimpleResponses: simple, identityValidationExpression: validation)
    }

    private static func isIdentitySource(_ text: String) -> Bool {
        ["$request.header.", "method.request.header.", "$request.querystring.", "method.request.querystring.",
         "$context.", "context.", "$stageVariables.", "stageVariables."].contains { text.hasPrefix($0) && text.count > $0.count }
    }
}
