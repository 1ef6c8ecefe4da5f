/// The target group names integration URIs may use, and which of them are HTTPS (`protocol: HTTPS`).
struct IntegrationTargetNames {
    /// Target groups, which HTTP_PROXY URIs name as their host.
    let all: Set<String>
    let https: Set<String>
    /// Local functions, which AWS_PROXY URIs name.
    let functions: Set<String>

    init(_ groups: [TargetGroup], functions: [LambdaFunction] = []) {
        all = Set(groups.map(\.name))
        https = Set(groups.filter(\.isHTTPS).map(\.name))
        self.functions = Set(functions.map(\.name))
    }
}

/// Parses HTTP_PROXY integration URIs: `http://HOST[:PORT][/path]` or `https://HOST[:PORT][/path]` where HOST
/// names a target group (of the same protocol) or is numeric, and `{param}` / `${stageVariables.x}` may appear.
enum IntegrationURISyntax {
    static func parse(_ text: String, targetGroups: IntegrationTargetNames) -> Result<IntegrationURI, SyntaxError> {
        let lowercased = text.lowercased()
        let isHTTPS = lowercased.hasPrefix("https://")
        guard isHTTPS || lowercased.hasPrefix("http://") else {
            return .failure(SyntaxError("expected an http:// or https:// URL, got \"\(text)\""))
        }
        let scheme = isHTTPS ? "https://" : "http://"
        let rest = text.dropFirst(scheme.count)
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
            if isHTTPS {
                return .failure(SyntaxError(
                    "https:// integration URIs with stage variables in the host are not supported yet"
                        + " (name an HTTPS target group, or write a fixed HOST:PORT)"))
            }
            switch parts(authority, allowPathParameters: false) {
            case let .success(parsed): upstream = .stageDependent(parsed)
            case let .failure(error): return .failure(error)
            }
        } else if targetGroups.all.contains(authority) {
            let groupIsHTTPS = targetGroups.https.contains(authority)
            if groupIsHTTPS, !isHTTPS {
                return .failure(SyntaxError(
                    "target group \"\(authority)\" is HTTPS (protocol: HTTPS); write https://\(authority)\(rest[authorityEnd...])"))
            }
            if isHTTPS, !groupIsHTTPS {
                return .failure(SyntaxError(
                    "target group \"\(authority)\" is HTTP; write http://\(authority)\(rest[authorityEnd...]),"
                        + " or give the group protocol: HTTPS"))
            }
            upstream = .targetGroup(authority)
        } else {
            switch AddressSyntax.endpoint(authority, defaultPort: isHTTPS ? 443 : 80) {
            case let .success(endpoint): upstream = .endpoint(endpoint)
            case .failure:
                let hint = isHTTPS
                    ? " (to verify an upstream by DNS name, declare a target group with protocol: HTTPS and tls: { serverName: NAME })"
                    : ""
                return .failure(SyntaxError(
                    "host \"\(authority)\" names no target group and is not a numeric HOST:PORT" + hint))
            }
        }
        return .success(IntegrationURI(text: text, upstream: upstream, pathAndQuery: pathAndQuery, isHTTPS: isHTTPS))
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
