import Yams

/// Walks the node tree section by section into model values, logging every issue on the way.
/// Where a value is invalid it substitutes a fallback and carries on, so that one pass finds
/// all issues; the loader discards the result whenever any issue was logged.
struct ConfigParser {
    let log: IssueLog
    /// The config file's folder, which relative `file://` paths are resolved against.
    let directory: String
    /// Where `valueFrom: env:NAME` values come from.
    let environment: [String: String]

    func gatewayConfig(_ root: Node, sourcePath: String) -> GatewayConfig? {
        guard let top = ObjectReader(
            root, .root, log: log,
            keys: ["listeners", "settings", "targetGroups", "authorizers", "apis", "usagePlans", "apiKeys", "domainNames",
                   "functions"]
        ) else { return nil }
        let targetGroups = self.targetGroups(top)
        let functions = self.functions(top)
        let (authorizers, lambdaAuthorizers, authorizerTypes) = self.authorizers(
            top, functionNames: Set(functions.map(\.name)))
        let apis = self.apis(
            top, targetGroupNames: IntegrationTargetNames(targetGroups, functions: functions), authorizerTypes: authorizerTypes)
        let apiKeys = self.apiKeys(top)
        let domainNames = self.domainNames(top, apis: apis)
        return GatewayConfig(
            listeners: listeners(top, apiNames: Set(apis.map(\.name)), domainCertificates: domainNames.declareCertificates),
            settings: settings(top),
            targetGroups: targetGroups,
            apis: apis,
            domainNames: domainNames.domains,
            sourcePath: sourcePath,
            authorizers: authorizers,
            apiKeys: apiKeys,
            usagePlans: usagePlans(top, apis: apis, apiKeyNames: Set(apiKeys.map(\.name))),
            functions: functions,
            lambdaAuthorizers: lambdaAuthorizers
        )
    }

    // MARK: listeners

    /// `domainCertificates`: whether any domain name declares a certificate (an HTTPS listener needs one somewhere).
    private func listeners(_ top: ObjectReader, apiNames: Set<String>, domainCertificates: Bool) -> [Listener] {
        var names = UniqueNames()
        var listeners: [Listener] = []
        var firstAdmin: String?
        for (path, node) in top.requiredList("listeners") {
            guard let fields = ObjectReader(
                node, path, log: log, keys: ["name", "host", "port", "protocol", "admin", "defaultApi", "http2"] + Self.httpsListenerKeys
            ) else { continue }
            let name = fields.requiredString("name") ?? ""
            if !name.isEmpty { names.claim(name, "listener name", path.key("name"), at: fields.node("name")?.mark, log: log) }
            var host = "127.0.0.1"
            if let hostNode = fields.node("host"), let text = log.string(hostNode, path.key("host")) {
                if let numeric = AddressSyntax.numericHost(text) {
                    host = numeric
                } else {
                    log.add(path.key("host"), at: hostNode,
                            "host must be a numeric IPv4 or IPv6 address or \"localhost\", got \"\(text)\"")
                }
            }
            let port = fields.requiredInt("port", in: 1...65535)
            let protocolType: ListenerProtocol = fields.choice("protocol", default: .http)
            let admin = fields.bool("admin", default: false)
            let defaultApi = fields.string("defaultApi")
            if let defaultApi, let apiNode = fields.node("defaultApi") {
                if admin {
                    log.add(path.key("defaultApi"), at: apiNode, "an admin listener serves no apis; remove defaultApi")
                } else if !apiNames.contains(defaultApi) {
                    log.add(path.key("defaultApi"), at: apiNode, "names no api: \"\(defaultApi)\"")
                }
            }
            if admin, let adminNode = fields.node("admin") {
                if let firstAdmin {
                    log.add(path.key("admin"), at: adminNode,
                            "only one admin listener is allowed; \"\(firstAdmin)\" is one already")
                } else {
                    firstAdmin = name
                }
            }
            if let port, let clash = listeners.first(where: { $0.port == port && Self.hostsOverlap($0.host, host) }) {
                log.add(path.key("port"), at: fields.node("port")?.mark,
                        "port \(port) on \(host) is already used by listener \"\(clash.name)\"")
            }
            let tls = listenerTLS(fields, protocolType: protocolType, admin: admin, domainCertificates: domainCertificates)
            listeners.append(Listener(
                name: name, host: host, port: port ?? 0, protocolType: protocolType, admin: admin,
                defaultApi: defaultApi, certificate: tls.certificate, unknownServerName: tls.unknownServerName,
                minimumTlsVersion: tls.minimumTlsVersion,
                http2: fields.node("http2") == nil ? nil : fields.bool("http2", default: false)))
        }
        if top.node("listeners") != nil, !listeners.contains(where: { !$0.admin }) {
            log.add(.root.key("listeners"), at: top.node("listeners")?.mark, "at least one non-admin listener is required")
        }
        return listeners
    }

    /// Two binds clash when they share an address, or when either is the wildcard address.
    private static func hostsOverlap(_ a: String, _ b: String) -> Bool {
        let wildcards: Set<String> = ["0.0.0.0", "::"]
        return a == b || wildcards.contains(a) || wildcards.contains(b)
    }

    // MARK: settings

    private func settings(_ top: ObjectReader) -> GatewaySettings {
        let defaults = GatewaySettings.defaults
        guard let fields = top.object("settings", keys: [
            "workers", "maxRequestBodyBytes", "maxRequestLineBytes", "maxHeaderBytes", "keepAliveTimeoutSeconds",
            "headerTimeoutSeconds", "drainTimeoutSeconds", "upstreamIdleTimeoutSeconds", "accessLog",
            "throttle", "clientIpThrottle", "quotaStorePath", "http2",
        ]) else { return defaults.with(quotaStorePath: resolve(GatewaySettings.defaultQuotaStoreFile)) }
        let positive = 1...Int.max
        let accessLog = fields.object("accessLog", keys: ["enabled", "destination", "format"])
            .map { accessLogSettings($0, enabled: $0.bool("enabled", default: false)) }
        return GatewaySettings(
            workers: fields.optionalInt("workers", in: 1...4096),
            maxRequestBodyBytes: fields.int("maxRequestBodyBytes", default: defaults.maxRequestBodyBytes, in: positive),
            maxRequestLineBytes: fields.int("maxRequestLineBytes", default: defaults.maxRequestLineBytes, in: positive),
            maxHeaderBytes: fields.int("maxHeaderBytes", default: defaults.maxHeaderBytes, in: positive),
            keepAliveTimeoutSeconds: fields.int(
                "keepAliveTimeoutSeconds", default: defaults.keepAliveTimeoutSeconds, in: positive),
            headerTimeoutSeconds: fields.int("headerTimeoutSeconds", default: defaults.headerTimeoutSeconds, in: positive),
            drainTimeoutSeconds: fields.int("drainTimeoutSeconds", default: defaults.drainTimeoutSeconds, in: positive),
            upstreamIdleTimeoutSeconds: fields.int(
                "upstreamIdleTimeoutSeconds", default: defaults.upstreamIdleTimeoutSeconds, in: positive),
            accessLog: accessLog ?? defaults.accessLog,
            throttle: fields.object("throttle", keys: ["burstLimit", "rateLimit"]).map {
                ThrottleSettings(
                    burstLimit: $0.int("burstLimit", default: defaults.throttle.burstLimit, in: 0...Int.max),
                    rateLimit: $0.number("rateLimit", default: defaults.throttle.rateLimit, minimum: 0))
            } ?? defaults.throttle,
            clientIpThrottle: fields.object("clientIpThrottle", keys: ["burstLimit", "rateLimit"])
                .flatMap { throttle($0, burstKey: "burstLimit", rateKey: "rateLimit") },
            quotaStorePath: resolve(quotaStorePath(fields) ?? GatewaySettings.defaultQuotaStoreFile),
            http2: fields.object("http2", keys: ["maxConcurrentStreams", "initialWindowSize"]).map {
                HTTP2Settings(
                    maxConcurrentStreams: $0.int(
                        "maxConcurrentStreams", default: HTTP2Settings.defaults.maxConcurrentStreams, in: 1...10_000),
                    // RFC 9113 §6.5.2: at most 2^31-1.
                    initialWindowSize: $0.int(
                        "initialWindowSize", default: HTTP2Settings.defaults.initialWindowSize, in: 1...2_147_483_647))
            } ?? .defaults
        )
    }

    private func quotaStorePath(_ settings: ObjectReader) -> String? {
        guard let node = settings.node("quotaStorePath"),
              let text = log.string(node, settings.path.key("quotaStorePath")) else { return nil }
        let path = text.hasPrefix("file://") ? String(text.dropFirst("file://".count)) : text
        guard !path.isEmpty, !path.hasSuffix("/") else {
            log.add(settings.path.key("quotaStorePath"), at: node, "expected a file path, got \"\(text)\"")
            return nil
        }
        return path
    }

    /// Reads `destination` and `format` of a global or per-stage access log.
    func accessLogSettings(_ fields: ObjectReader, enabled: Bool) -> AccessLogSettings {
        var destination = AccessLogDestination.stdout
        if let node = fields.node("destination"), let text = log.string(node, fields.path.key("destination")) {
            switch text {
            case "stdout": destination = .stdout
            case "stderr": destination = .stderr
            case _ where text.hasPrefix("file://") && text.count > "file://".count:
                destination = .file(path: resolve(String(text.dropFirst("file://".count))))
            default:
                log.add(fields.path.key("destination"), at: node,
                        "expected \"stdout\", \"stderr\" or \"file://PATH\", got \"\(text)\"")
            }
        }
        var format: ValueTemplate?
        if let node = fields.node("format"), let text = log.string(node, fields.path.key("format")) {
            switch TemplateSyntax.parse(text, scope: .accessLog) {
            case let .success(template): format = template
            case let .failure(error): log.add(fields.path.key("format"), at: node, error.message)
            }
        }
        return AccessLogSettings(enabled: enabled, destination: destination, format: format)
    }

    /// A path relative to the config file's folder.
    func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var relative = Substring(path)
        while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
        return directory.isEmpty ? String(relative) : directory + "/" + relative
    }

    // MARK: target groups

    private func targetGroups(_ top: ObjectReader) -> [TargetGroup] {
        var names = UniqueNames()
        var groups: [TargetGroup] = []
        for (path, node) in top.list("targetGroups") {
            guard let fields = ObjectReader(node, path, log: log, keys: [
                "name", "endpoints", "loadBalancing", "healthCheck", "maxConnectionsPerEndpoint",
                "maxIdleConnectionsPerEndpoint", "connectTimeoutMillis", "passiveEjection", "protocol", "tls",
                "pipelineDepth", "http2",
            ]) else { continue }
            let name = fields.requiredString("name") ?? ""
            if let nameNode = fields.node("name"), !name.isEmpty {
                names.claim(name, "target group name", path.key("name"), at: nameNode.mark, log: log)
                if !name.allSatisfy({ $0.isASCIILetterOrDigit || "._-".contains($0) }) {
                    log.add(path.key("name"), at: nameNode,
                            "a target group name is used as a URL host: letters, digits, \".\", \"_\" and \"-\" only")
                }
            }
            var endpoints: [Endpoint] = []
            let endpointNodes = fields.requiredList("endpoints")
            if let listNode = fields.node("endpoints"), case .sequence = listNode, endpointNodes.isEmpty {
                log.add(path.key("endpoints"), at: listNode, "a target group needs at least one endpoint")
            }
            for (endpointPath, endpointNode) in endpointNodes {
                guard let text = log.string(endpointNode, endpointPath) else { continue }
                switch AddressSyntax.endpoint(text) {
                case let .success(endpoint):
                    if endpoints.contains(endpoint) {
                        log.add(endpointPath, at: endpointNode, "duplicate endpoint \"\(text)\"")
                    }
                    endpoints.append(endpoint)
                case let .failure(error):
                    log.add(endpointPath, at: endpointNode, "invalid endpoint \(error.message)")
                }
            }
            let protocolType: ListenerProtocol = fields.choice("protocol", default: .http)
            let tls = upstreamTLS(fields, isHTTPS: protocolType == .https)
            let http2 = fields.bool("http2", default: false)
            let pipelineDepth = fields.int("pipelineDepth", default: 0, in: 0...(http2 ? 1000 : 64))
            if pipelineDepth > 1, protocolType == .https, !http2, let node = fields.node("pipelineDepth") {
                log.add(path.key("pipelineDepth"), at: node,
                        "HTTP/1.1 pipelining applies to HTTP target groups only; an HTTPS group sends one request per connection at a time, or many as HTTP/2 streams with http2: true")
            }
            groups.append(TargetGroup(
                name: name,
                endpoints: endpoints,
                loadBalancing: fields.choice("loadBalancing", default: .roundRobin),
                healthCheck: healthCheck(fields),
                maxConnectionsPerEndpoint: fields.int("maxConnectionsPerEndpoint", default: 256, in: 1...65536),
                maxIdleConnectionsPerEndpoint: fields.int("maxIdleConnectionsPerEndpoint", default: 64, in: 0...65536),
                connectTimeoutMillis: fields.int("connectTimeoutMillis", default: 3000, in: 1...300_000),
                passiveEjection: fields.object("passiveEjection", keys: ["consecutiveFailures", "ejectionSeconds"]).map {
                    PassiveEjection(
                        consecutiveFailures: $0.int("consecutiveFailures", default: 5, in: 1...Int.max),
                        ejectionSeconds: $0.int("ejectionSeconds", default: 30, in: 1...Int.max))
                },
                isHTTPS: protocolType == .https,
                tls: tls,
                pipelineDepth: pipelineDepth,
                http2: http2
            ))
        }
        return groups
    }

    private func healthCheck(_ group: ObjectReader) -> HealthCheck? {
        guard let fields = group.object("healthCheck", keys: [
            "path", "intervalSeconds", "timeoutSeconds", "healthyThreshold", "unhealthyThreshold",
        ]) else { return nil }
        var path = "/"
        if let node = fields.node("path"), let text = log.string(node, fields.path.key("path")) {
            if text.hasPrefix("/") {
                path = text
            } else {
                log.add(fields.path.key("path"), at: node, "must start with \"/\", got \"\(text)\"")
            }
        }
        return HealthCheck(
            path: path,
            intervalSeconds: fields.int("intervalSeconds", default: 5, in: 1...3600),
            timeoutSeconds: fields.int("timeoutSeconds", default: 2, in: 1...3600),
            healthyThreshold: fields.int("healthyThreshold", default: 2, in: 1...100),
            unhealthyThreshold: fields.int("unhealthyThreshold", default: 3, in: 1...100))
    }
}

extension GatewaySettings {
    /// A copy with another quota store path.
    func with(quotaStorePath: String) -> GatewaySettings {
        GatewaySettings(
            workers: workers, maxRequestBodyBytes: maxRequestBodyBytes, maxRequestLineBytes: maxRequestLineBytes,
            maxHeaderBytes: maxHeaderBytes, keepAliveTimeoutSeconds: keepAliveTimeoutSeconds,
            headerTimeoutSeconds: headerTimeoutSeconds, drainTimeoutSeconds: drainTimeoutSeconds,
            upstreamIdleTimeoutSeconds: upstreamIdleTimeoutSeconds, accessLog: accessLog, throttle: throttle,
            clientIpThrottle: clientIpThrottle, quotaStorePath: quotaStorePath, http2: http2)
    }
}
