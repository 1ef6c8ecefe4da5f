/// Picks the API, the stage and the part of the path left for route matching from a request's Host header and path, without allocating.
///
/// Order of rules (first that applies wins):
/// 1. The host equals a configured custom domain name (case-insensitive, port and trailing dot
///    ignored): its API mappings decide. The mapping whose key matches the most whole leading path
///    segments wins and is stripped; the empty key `""` ("(none)") is the catch-all ("API Gateway
///    routes requests to the API mapping that has the longest matching path ... If no path matches the
///    request, API Gateway sends the request to the API that you've mapped to the empty path (none)" —
///    docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html). Keys are compared
///    case-sensitively, like paths.
/// 2. The host is `{apiId}.execute-api.<anything>` for a configured API: the stage rule below.
/// 3. The host matches a wildcard domain `*.example.com`, one label deep (a wildcard certificate
///    covers exactly one label, RFC 6125 §6.4.3): its mappings, as in 1.
/// 4. A fallback API is configured (a listener's default API): the stage rule below.
/// Otherwise `.noApi`.
///
/// The stage rule: "If the request explicitly matches a stage, API Gateway sends the request to that
/// stage. If no stage fully matches the request, API Gateway sends the request to the $default stage.
/// If there's no $default stage, then the API returns {"message":"Not Found"}" (docs.aws.amazon.com/
/// apigateway/latest/developerguide/http-api-develop-routes.html); an explicit stage is the whole first
/// path segment, stripped before route matching ("an HTTP API's $default stage is served without a
/// stage segment": `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}/{path}`).
public struct ApiSelector: Sendable {
    /// One API as the selector needs it; `stageNames` lists every stage, `$default` included when the API has one.
    public struct Api: Sendable {
        public var apiId: String
        public var stageNames: [String]

        public init(apiId: String, stageNames: [String]) {
            self.apiId = apiId
            self.stageNames = stageNames
        }

        public var hasDefaultStage: Bool { stageNames.contains("$default") }
    }

    /// One API mapping of a custom domain: `apiMappingKey` is "" (root), "v1" or multi-level "orders/v2".
    public struct Mapping: Sendable {
        public var apiMappingKey: String
        public var apiIndex: Int
        public var stageIndex: Int

        public init(apiMappingKey: String, apiIndex: Int, stageIndex: Int) {
            self.apiMappingKey = apiMappingKey
            self.apiIndex = apiIndex
            self.stageIndex = stageIndex
        }
    }

    /// A custom domain name (`api.example.com` or wildcard `*.example.com`) and its API mappings.
    public struct Domain: Sendable {
        public var domainName: String
        public var mappings: [Mapping]

        public init(domainName: String, mappings: [Mapping]) {
            self.domainName = domainName
            self.mappings = mappings
        }
    }

    private struct CompiledApi: Sendable {
        var lowercasedId: [UInt8]
        var stages: [[UInt8]]
        var defaultStage: Int?
    }

    private struct CompiledMapping: Sendable {
        var key: [UInt8]
        var apiIndex: Int
        var stageIndex: Int
    }

    private struct CompiledDomain: Sendable {
        /// Lower-cased name; for a wildcard, the suffix after `*` (`.example.com`).
        var name: [UInt8]
        var isWildcard: Bool
        /// Longest key first, so the first match is the longest.
        var mappings: [CompiledMapping]
    }

    private let apis: [CompiledApi]
    private let domains: [CompiledDomain]
    private let fallbackApiIndex: Int?

    /// Validates and precomputes everything matching needs (lower-cased names, mappings by length).
    public init(apis: [Api], domains: [Domain], fallbackApiIndex: Int? = nil) throws(ApiSelectorError) {
        var seenIds: Set<String> = []
        var compiledApis: [CompiledApi] = []
        for api in apis {
            let id = api.apiId.lowercased()
            guard !id.isEmpty, !id.contains("."), !id.contains("/") else { throw .invalidApiId(api.apiId) }
            guard seenIds.insert(id).inserted else { throw .duplicateApiId(api.apiId) }
            guard Set(api.stageNames).count == api.stageNames.count else { throw .duplicateStageName(api.apiId) }
            compiledApis.append(CompiledApi(
                lowercasedId: Array(id.utf8),
                stages: api.stageNames.map { Array($0.utf8) },
                defaultStage: api.stageNames.firstIndex(of: "$default")))
        }

        var seenDomains: Set<String> = []
        var compiledDomains: [CompiledDomain] = []
        for domain in domains {
            var name = domain.domainName.lowercased()
            if name.hasSuffix(".") { name.removeLast() }
            guard seenDomains.insert(name).inserted else { throw .duplicateDomainName(domain.domainName) }
            let isWildcard = name.hasPrefix("*.")
            if isWildcard { name.removeFirst() }
            guard !name.isEmpty, !name.contains("*"), !name.contains(":"), !name.contains("/") else {
                throw .invalidDomainName(domain.domainName)
            }
            var seenKeys: Set<String> = []
            var mappings: [CompiledMapping] = []
            for mapping in domain.mappings {
                let key = mapping.apiMappingKey
                guard key.isEmpty || (!key.hasPrefix("/") && !key.hasSuffix("/") && !key.contains("//")) else {
                    throw .invalidMappingKey(domain: domain.domainName, key: key)
                }
                guard seenKeys.insert(key).inserted else {
                    throw .duplicateMappingKey(domain: domain.domainName, key: key)
                }
                guard compiledApis.indices.contains(mapping.apiIndex),
                      compiledApis[mapping.apiIndex].stages.indices.contains(mapping.stageIndex) else {
                    throw .mappingTargetOutOfRange(domain: domain.domainName, key: key)
                }
                mappings.append(CompiledMapping(key: Array(key.utf8), apiIndex: mapping.apiIndex,
                                                stageIndex: mapping.stageIndex))
            }
            mappings.sort { $0.key.count > $1.key.count }
            compiledDomains.append(CompiledDomain(name: Array(name.utf8), isWildcard: isWildcard, mappings: mappings))
        }

        if let fallbackApiIndex, !compiledApis.indices.contains(fallbackApiIndex) {
            throw .fallbackApiOutOfRange(fallbackApiIndex)
        }
        self.apis = compiledApis
        self.domains = compiledDomains
        self.fallbackApiIndex = fallbackApiIndex
    }

    /// Selects API and stage for a request: `host` is the Host header's bytes (port allowed), `path`
    /// the request path without the query string.
    public func select(host: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer) -> ApiSelection {
        let hostEnd = ApiSelector.hostNameEnd(host)

        for (index, domain) in domains.enumerated() where !domain.isWildcard {
            if ApiSelector.equalsLowercased(host, 0, hostEnd, domain.name) {
                return selectMapping(domainIndex: index, path: path)
            }
        }
        if let apiIndex = executeApiIndex(host, hostEnd) {
            return selectStage(apiIndex: apiIndex, path: path)
        }
        for (index, domain) in domains.enumerated() where domain.isWildcard {
            // `*` stands for exactly one non-empty label: the suffix starts at the host's first dot.
            let suffixStart = hostEnd - domain.name.count
            guard suffixStart > 0 else { continue }
            var firstDot = 0
            while firstDot < hostEnd, host[firstDot] != UInt8(ascii: ".") { firstDot += 1 }
            if firstDot == suffixStart, ApiSelector.equalsLowercased(host, suffixStart, hostEnd, domain.name) {
                return selectMapping(domainIndex: index, path: path)
            }
        }
        if let fallbackApiIndex {
            return selectStage(apiIndex: fallbackApiIndex, path: path)
        }
        return .noApi
    }

    /// `select` for callers that hold strings (tests, the admin API); not for the request path.
    public func select(host: String, path: String) -> ApiSelection {
        var host = host
        var path = path
        return host.withUTF8 { h in
            path.withUTF8 { p in select(host: UnsafeRawBufferPointer(h), path: UnsafeRawBufferPointer(p)) }
        }
    }

    // MARK: Matching

    private func selectStage(apiIndex: Int, path: UnsafeRawBufferPointer) -> ApiSelection {
        let api = apis[apiIndex]
        if path.count > 1, path[0] == PathBytes.slash {
            var end = 1
            while end < path.count, path[end] != PathBytes.slash { end += 1 }
            let length = end - 1
            for (stageIndex, stage) in api.stages.enumerated()
            where stageIndex != api.defaultStage && stage.count == length {
                if ApiSelector.equalsExactly(path, 1, stage) {
                    return .selected(SelectedApi(apiIndex: apiIndex, stageIndex: stageIndex, pathStart: end,
                                                 domainIndex: nil))
                }
            }
        }
        if let defaultStage = api.defaultStage {
            return .selected(SelectedApi(apiIndex: apiIndex, stageIndex: defaultStage, pathStart: 0, domainIndex: nil))
        }
        return .noStage(apiIndex: apiIndex)
    }

    private func selectMapping(domainIndex: Int, path: UnsafeRawBufferPointer) -> ApiSelection {
        for mapping in domains[domainIndex].mappings {
            let keyLength = mapping.key.count
            if keyLength == 0 {
                return .selected(SelectedApi(apiIndex: mapping.apiIndex, stageIndex: mapping.stageIndex,
                                             pathStart: 0, domainIndex: domainIndex))
            }
            // The key must cover whole leading segments: "/" + key, then the end or a "/".
            let end = 1 + keyLength
            guard path.count >= end, path[0] == PathBytes.slash,
                  end == path.count || path[end] == PathBytes.slash,
                  ApiSelector.equalsExactly(path, 1, mapping.key) else { continue }
            return .selected(SelectedApi(apiIndex: mapping.apiIndex, stageIndex: mapping.stageIndex,
                                         pathStart: end, domainIndex: domainIndex))
        }
        return .noMapping(domainIndex: domainIndex)
    }

    /// The API whose id is the host's first label when the second is `execute-api` and more follows.
    private func executeApiIndex(_ host: UnsafeRawBufferPointer, _ hostEnd: Int) -> Int? {
        var dot = 0
        while dot < hostEnd, host[dot] != UInt8(ascii: ".") { dot += 1 }
        let marker: StaticString = ".execute-api."
        let markerLength = marker.utf8CodeUnitCount
        guard dot > 0, dot + markerLength < hostEnd else { return nil }
        let m = marker.utf8Start
        for i in 0..<markerLength where PathBytes.lowercased(host[dot + i]) != m[i] { return nil }
        for (index, api) in apis.enumerated() where api.lowercasedId.count == dot {
            if ApiSelector.equalsLowercased(host, 0, dot, api.lowercasedId) { return index }
        }
        return nil
    }

    /// End of the host name in a Host header value: before the port, and before a trailing dot.
    static func hostNameEnd(_ host: UnsafeRawBufferPointer) -> Int {
        var end = host.count
        if host.first == UInt8(ascii: "[") {
            // IPv6 literal: "[::1]:8080".
            var i = 0
            while i < host.count, host[i] != UInt8(ascii: "]") { i += 1 }
            end = Swift.min(i + 1, host.count)
        } else {
            var i = 0
            while i < host.count, host[i] != UInt8(ascii: ":") { i += 1 }
            end = i
        }
        if end > 0, host[end - 1] == UInt8(ascii: ".") { end -= 1 }
        return end
    }

    @inline(__always)
    static func equalsLowercased(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ lowered: [UInt8]) -> Bool {
        guard end - start == lowered.count else { return false }
        for i in 0..<lowered.count where PathBytes.lowercased(bytes[start + i]) != lowered[i] { return false }
        return true
    }

    @inline(__always)
    static func equalsExactly(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ expected: [UInt8]) -> Bool {
        guard bytes.count - start >= expected.count else { return false }
        for i in 0..<expected.count where bytes[start + i] != expected[i] { return false }
        return true
    }
}

/// Where a request goes: indices into the selector's APIs and that API's stages, and where the route path starts.
public struct SelectedApi: Equatable, Sendable {
    public var apiIndex: Int
    public var stageIndex: Int
    /// Offset into the request path where the path to match routes against begins (after a stage
    /// segment or an API mapping key); the rest may be empty, which routes as `/`.
    public var pathStart: Int
    /// The custom domain that matched, nil for `execute-api` hosts and the fallback API.
    public var domainIndex: Int?

    public init(apiIndex: Int, stageIndex: Int, pathStart: Int, domainIndex: Int?) {
        self.apiIndex = apiIndex
        self.stageIndex = stageIndex
        self.pathStart = pathStart
        self.domainIndex = domainIndex
    }
}

/// The outcome of `ApiSelector.select`; the failures are kept apart so the caller can answer as AWS does.
public enum ApiSelection: Equatable, Sendable {
    case selected(SelectedApi)
    /// No configured domain, API or fallback for this host.
    case noApi
    /// The API has no stage named by the first segment and no `$default` stage: an HTTP API answers
    /// 404 `{"message":"Not Found"}` (http-api-develop-routes.html, "Routing API requests").
    case noStage(apiIndex: Int)
    /// The custom domain has no mapping for this path and no `(none)` mapping.
    case noMapping(domainIndex: Int)
}

/// Why an `ApiSelector` could not be built from the configuration.
public enum ApiSelectorError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidApiId(String)
    case duplicateApiId(String)
    case duplicateStageName(String)
    case invalidDomainName(String)
    case duplicateDomainName(String)
    case invalidMappingKey(domain: String, key: String)
    case duplicateMappingKey(domain: String, key: String)
    case mappingTargetOutOfRange(domain: String, key: String)
    case fallbackApiOutOfRange(Int)

    public var message: String {
        switch self {
        case .invalidApiId(let id): "API id '\(id)' must be non-empty and contain no '.' or '/'"
        case .duplicateApiId(let id): "API id '\(id)' is used by more than one API"
        case .duplicateStageName(let id): "API '\(id)' has two stages with the same name"
        case .invalidDomainName(let name): "domain name '\(name)' is not a host name or '*.' wildcard"
        case .duplicateDomainName(let name): "domain name '\(name)' is configured more than once"
        case .invalidMappingKey(let domain, let key):
            "API mapping key '\(key)' of domain '\(domain)' must not start or end with '/' or contain '//'"
        case .duplicateMappingKey(let domain, let key):
            "domain '\(domain)' maps API mapping key '\(key)' more than once"
        case .mappingTargetOutOfRange(let domain, let key):
            "API mapping '\(key)' of domain '\(domain)' names an API or stage that does not exist"
        case .fallbackApiOutOfRange(let index): "fallback API index \(index) does not exist"
        }
    }

    public var description: String { message }
}
