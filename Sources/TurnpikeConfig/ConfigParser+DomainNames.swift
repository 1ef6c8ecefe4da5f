import Yams

extension ConfigParser {
    /// The domain names, and whether any of them declares a certificate (valid or not).
    func domainNames(_ top: ObjectReader, apis: [ApiDefinition]) -> (domains: [DomainName], declareCertificates: Bool) {
        let stagesByApi = Dictionary(apis.map { ($0.name, Set($0.stages.map(\.name))) }, uniquingKeysWith: { a, _ in a })
        var names = UniqueNames()
        var domains: [DomainName] = []
        var declareCertificates = false
        for (path, node) in top.list("domainNames") {
            guard let fields = ObjectReader(
                node, path, log: log,
                keys: ["domainName", "certificate", "securityPolicy", "mutualTlsAuthentication", "apiMappings"]
            ) else { continue }
            if fields.node("certificate") != nil { declareCertificates = true }
            var name = ""
            if let text = fields.requiredString("domainName"), let nameNode = fields.node("domainName") {
                if AddressSyntax.isDomainName(text) {
                    name = text.lowercased()
                    names.claim(name, "domain name", path.key("domainName"), at: nameNode.mark, log: log)
                } else {
                    log.add(path.key("domainName"), at: nameNode,
                            "expected a host name such as api.example.com or *.example.com, got \"\(text)\"")
                }
            }
            var keys = UniqueNames()
            var mappings: [ApiMapping] = []
            let mappingNodes = fields.requiredList("apiMappings")
            if let listNode = fields.node("apiMappings"), case .sequence = listNode, mappingNodes.isEmpty {
                log.add(path.key("apiMappings"), at: listNode, "a domain name needs at least one api mapping")
            }
            for (mappingPath, mappingNode) in mappingNodes {
                guard let mapping = ObjectReader(
                    mappingNode, mappingPath, log: log, keys: ["apiMappingKey", "api", "stage"]
                ) else { continue }
                var key: String? = ""
                if let keyNode = mapping.node("apiMappingKey"), let text = log.string(keyNode, mappingPath.key("apiMappingKey")) {
                    if RouteSyntax.isApiMappingKey(text) {
                        key = text
                    } else {
                        key = nil
                        log.add(mappingPath.key("apiMappingKey"), at: keyNode,
                                "expected \"\" or segments of A-Z a-z 0-9 . _ - joined by \"/\" (no \"/\" at either end), got \"\(text)\"")
                    }
                }
                if let key {
                    keys.claim(key, "apiMappingKey", mappingPath.key("apiMappingKey"),
                               at: mapping.node("apiMappingKey")?.mark ?? mapping.mark, log: log)
                }
                let apiName = mapping.requiredString("api") ?? ""
                let stageName = mapping.requiredString("stage") ?? ""
                if let apiNode = mapping.node("api"), !apiName.isEmpty {
                    if let stages = stagesByApi[apiName] {
                        if let stageNode = mapping.node("stage"), !stageName.isEmpty, !stages.contains(stageName) {
                            let known = stages.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                            log.add(mappingPath.key("stage"), at: stageNode,
                                    "api \"\(apiName)\" has no stage \"\(stageName)\" (stages: \(known))")
                        }
                    } else {
                        log.add(mappingPath.key("api"), at: apiNode, "names no api: \"\(apiName)\"")
                    }
                }
                mappings.append(ApiMapping(key: key ?? "", apiName: apiName, stageName: stageName))
            }
            let tls = domainTLS(fields)
            domains.append(DomainName(
                name: name, mappings: mappings, certificate: tls.certificate, truststorePath: tls.truststorePath))
        }
        return (domains, declareCertificates)
    }
}
