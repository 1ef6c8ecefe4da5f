/// Parses HTTP_PROXY integration URIs: `http://HOST[:PORT][/path]` where HOST names a
/// target group or is numeric, and `{param}` / `${stageVariables.x}` may appear.
enum IntegrationURISyntax {
    static func parse(_ text: String, targetGroups: Set<String>) -> Result<IntegrationURI, SyntaxError> {
        if text.lowercased().hasPrefix("https://") {
            return .failure(SyntaxError("https:// integration URIs are not supported yet"))
        }
        guard text.lowercased().hasPrefix("http://") else {
            return .failure(SyntaxError("expected an http:// URL, got \"\(text)\""))
        }
        let rest = text.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = String(rest[..<authorityEnd])
        let pathAndQuery: [URIPart]
        switch parts(String(rest[authorityEnd...]), allowPathParameters: true) {
        case let .success(parsed): pathAndQuery = parsed
        case let .failure(error): return .failure(error)
        }
        guard !authority.isEmpty else { return .failure(SyntaxError("\"\(text)\" has no host")) }
        let upstream: Upstream
        if authority.contains("${") {
            switch parts(authority, allowPathParameters: false) {
            case let .success(parsed): upstream = .stageDependent(parsed)
            case let .failure(error): return .failure(error)
            }
        } else if targetGroups.contains(authority) {
            upstream = .targetGroup(authority)
        } else {
            switch AddressSyntax.endpoint(authority, defaultPort: 80) {
            case let .success(endpoint): upstream = .endpoint(endpoint)
            case .failure:
                return .failure(SyntaxError(
                    "host \"\(authority)\" names no target group and is not a numeric HOST:PORT"))
            }
        }
        return .success(IntegrationURI(text: text, upstream: upstream, pathAndQuery: pathAndQuery))
    }

    private static func parts(_ text: String, allowPathParameters: Bool) -> Result<[URIPart], SyntaxError> {
        var parts: [URIPart] = []
        var literal = ""
        var rest = Substring(text)
        while let character = rest.first {
            let isStageVariable = rest.hasPrefix("${")
            guard isStageVariable || (character == "{" && allowPathParameters) else {
                if character == "{" || character == "}" {
                    return .failure(SyntaxError("unexpected \"\(character)\" in \"\(text)\""))
                }
                literal.append(character)
                rest = rest.dropFirst()
                continue
            }
            guard let close = rest.firstIndex(of: "}") else {
                return .failure(SyntaxError("unclosed \"{\" in \"\(text)\""))
            }
            let inner = rest[rest.index(rest.startIndex, offsetBy: isStageVariable ? 2 : 1)..<close]
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
            if isStageVariable {
                let prefix = "stageVariables."
                let name = inner.dropFirst(prefix.count)
                guard inner.hasPrefix(prefix), !name.isEmpty, name.allSatisfy(\.isNameCharacter) else {
                    return .failure(SyntaxError("expected \"${stageVariables.NAME}\", got \"${\(inner)}\""))
                }
                parts.append(.stageVariable(String(name)))
            } else {
                let name = inner.hasSuffix("+") ? inner.dropLast() : inner
                guard !name.isEmpty, name.allSatisfy({ $0.isNameCharacter || $0 == "-" || $0 == "." }) else {
                    return .failure(SyntaxError("invalid path parameter \"{\(inner)}\""))
                }
                parts.append(.pathParameter(String(name)))
            }
            rest = rest[rest.index(after: close)...]
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return .success(parts)
    }
}
