import TurnpikeConfig
import TurnpikeRouting

/// What `$context.*`, `$request.*` and `$stageVariables.*` resolve to for one request.
public struct MappingContext {
    public var request: RequestHead
    /// The path after the base path / stage was stripped.
    public var routePath: UnsafeRawBufferPointer
    public var captures: PathCaptures
    public var api: CompiledApi
    public var stage: CompiledStage
    /// What the stage (or its canary) serves: route parameters and stage variables.
    public var variant: StageVariant
    public var routeKey: String
    public var requestId: RequestId
    public var requestTimeEpochMs: UInt64
    public var auth: AuthResult

    public init(
        request: RequestHead, routePath: UnsafeRawBufferPointer, captures: PathCaptures,
        api: CompiledApi, stage: CompiledStage, variant: StageVariant? = nil, routeKey: String,
        requestId: RequestId, requestTimeEpochMs: UInt64, auth: AuthResult = AuthResult()
    ) {
        self.request = request
        self.routePath = routePath
        self.captures = captures
        self.api = api
        self.stage = stage
        self.variant = variant ?? stage.main
        self.routeKey = routeKey
        self.requestId = requestId
        self.requestTimeEpochMs = requestTimeEpochMs
        self.auth = auth
    }

    /// The raw (still percent-encoded) value of a path parameter.
    func pathParameter(index: Int) -> UnsafeRawBufferPointer? {
        for i in 0..<captures.count where captures[i].nameIndex == index {
            let c = captures[i]
            // Response mappings see `RequestHead.empty`: the captures outlive the path they index.
            guard c.end <= routePath.count else { return nil }
            return UnsafeRawBufferPointer(rebasing: routePath[c.start..<c.end])
        }
        return nil
    }

    func queryValue(_ name: String) -> [UInt8]? {
        QueryString.value(named: name, in: request.query).map { Array($0) }
    }

    /// `$context.NAME`: the names API Gateway documents that exist at this point.
    func contextValue(_ name: String) -> String? {
        switch name {
        case "requestId": return requestId.string
        case "apiId": return api.apiId
        case "stage": return stage.name
        case "routeKey": return routeKey
        case "httpMethod": return ASCII.string(request.method)
        case "path": return ASCII.string(request.path)
        case "protocol": return request.protocolName
        case "identity.sourceIp": return ASCII.string(request.clientIP)
        case "identity.userAgent": return request.header(Array("user-agent".utf8)).map(ASCII.string)
        case "domainName": return hostWithoutPort
        case "domainPrefix": return hostWithoutPort.split(separator: ".").first.map(String.init) ?? ""
        case "requestTimeEpoch": return String(requestTimeEpochMs)
        case "requestTime": return AccessLogFormatter.clfTime(epochMs: requestTimeEpochMs)
        case "accountId": return "000000000000"
        case "identity.apiKeyId": return auth.apiKey?.id
        case "identity.clientCert.subjectDN":
            return request.clientCertSubject.isEmpty ? nil : ASCII.string(request.clientCertSubject)
        case "authorizer.principalId": return auth.lambda.map { $0.principalId ?? "" } ?? auth.token?.sub
        case "authorizer.error": return auth.error
        default:
            if name.hasPrefix("authorizer.claims.") {
                return auth.token?.claims[String(name.dropFirst("authorizer.claims.".count))]
            }
            // `$context.authorizer.KEY`: a Lambda authorizer's context value.
            if name.hasPrefix("authorizer."), let principal = auth.lambda {
                return principal.contextText(String(name.dropFirst("authorizer.".count)))
            }
            return nil
        }
    }

    var hostWithoutPort: String {
        var host = ASCII.string(request.host)
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") { host = String(host[..<colon]) }
        return host
    }

    /// Evaluates a value template into bytes.
    public func evaluate(_ template: ValueTemplate, into out: inout [UInt8]) {
        for part in template.parts {
            switch part {
            case .literal(let s):
                out.append(string: s)
            case .variable(let v):
                switch v {
                case .requestHeader(let name):
                    if let value = request.header(Array(name.utf8)) { out.append(value) }
                case .requestQueryString(let name):
                    if let value = queryValue(name) { out.append(contentsOf: value) }
                case .requestPathParameter(let name):
                    if let idx = variant.routeTable.parameterNames.firstIndex(of: name), let value = pathParameter(index: idx) {
                        out.append(value)
                    }
                case .requestPath:
                    out.append(routePath)
                case .context(let name):
                    if let value = contextValue(name) { out.append(string: value) }
                case .stageVariable(let name):
                    if let value = variant.variables[name] { out.append(string: value) }
                }
            }
        }
    }
}

/// Splitting a raw query string into its `name=value` pairs (still encoded).
enum QueryString {
    static func pairs(_ query: UnsafeRawBufferPointer) -> [(UnsafeRawBufferPointer, UnsafeRawBufferPointer)] {
        var out: [(UnsafeRawBufferPointer, UnsafeRawBufferPointer)] = []
        var start = 0
        let n = query.count
        while start <= n {
            var end = start
            while end < n && query[end] != UInt8(ascii: "&") { end += 1 }
            if end > start {
                var eq = start
                while eq < end && query[eq] != UInt8(ascii: "=") { eq += 1 }
                let name = UnsafeRawBufferPointer(rebasing: query[start..<eq])
                let value = eq < end ? UnsafeRawBufferPointer(rebasing: query[(eq + 1)..<end])
                                     : UnsafeRawBufferPointer(rebasing: query[end..<end])
                out.append((name, value))
            }
            start = end + 1
        }
        return out
    }

    /// The (still encoded) value of the first parameter called `name`.
    static func value(named name: String, in query: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        for (k, v) in pairs(query) where ASCII.string(k) == name { return v }
        return nil
    }

    /// Percent-encodes what may not stand in a path: controls, space, '?', '#', and
    /// bytes outside printable ASCII; '%' and '/' stay as they are.
    static func appendPathEncoded(_ bytes: [UInt8], to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        for b in bytes {
            switch b {
            case 0x21...0x7E where b != UInt8(ascii: "?") && b != UInt8(ascii: "#") && b != UInt8(ascii: "\""):
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            }
        }
    }

    /// Percent-encodes what may not stand in a query component.
    static func appendEncoded(_ bytes: [UInt8], to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        for b in bytes {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "%"), UInt8(ascii: ","),
                 UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "@"):
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            }
        }
    }
}
