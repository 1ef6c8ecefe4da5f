import TurnpikeAuth
import TurnpikeLambda
import TurnpikeRouting

/// Copies what a Lambda proxy event needs out of the transport's buffers, while they are
/// valid (the event itself is written once the body has arrived).
public enum LambdaRequest {
    public static func make(
        request: RequestHead, resolution: Resolution, served: Served, captures: PathCaptures,
        requestId: RequestId, epochMs: UInt64, auth: AuthResult
    ) -> ProxyRequest {
        let routePath = UnsafeRawBufferPointer(rebasing: request.path[resolution.pathStart...])
        let names = served.variant.routeTable.parameterNames
        var pathParameters: [(name: String, value: String)] = []
        for i in 0..<captures.count {
            let c = captures[i]
            guard c.nameIndex >= 0, c.nameIndex < names.count, c.end <= routePath.count else { continue }
            pathParameters.append((names[c.nameIndex], PathParameterDecoding.value(of: UnsafeRawBufferPointer(rebasing: routePath[c.start..<c.end]))))
        }
        let routeKey = served.route.routeKey
        let rawPath = ASCII.string(request.path)
        let resource = routeKey == "$default" ? rawPath : String(routeKey.split(separator: " ", maxSplits: 1).last ?? "")
        var proxy = ProxyRequest(
            method: ASCII.string(request.method), rawPath: rawPath, path: ASCII.string(routePath),
            rawQueryString: ASCII.string(request.query),
            headers: request.headers.map { (ASCII.string($0.name), ASCII.string($0.value)) },
            routeKey: routeKey, resource: resource, pathParameters: pathParameters,
            stageVariables: served.variant.variables.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            apiId: served.api.apiId, stage: served.stage.name, requestId: requestId.string, epochMs: epochMs,
            requestTime: AccessLogFormatter.clfTime(epochMs: epochMs),
            sourceIp: ASCII.string(request.clientIP), protocolName: request.protocolName,
            domainName: ASCII.string(request.host))
        if served.api.isRest { proxy.apiKind = .rest }
        if let token = auth.token {
            var claims = JSONText(capacity: 256)
            claims.beginObject()
            for key in token.claims.keys.sorted() { claims.member(key, token.claims[key]!) }
            claims.endObject()
            proxy.authorizer = .jwt(claimsJSON: claims.bytes, scopes: token.scopes.isEmpty ? nil : token.scopes)
        }
        if let key = auth.apiKey { proxy.apiKeyId = key.id }
        if let principal = auth.lambda {
            // REST hands the context over stringified; HTTP APIs keep the JSON types.
            let members = principal.context.keys.sorted().map { key -> ProxyRequest.ContextMember in
                var json = JSONText(capacity: 64)
                if proxy.apiKind == .rest { json.string(principal.contextText(key) ?? "") } else { json.raw(principal.context[key]!.jsonBytes) }
                return ProxyRequest.ContextMember(key: key, valueJSON: json.bytes)
            }
            proxy.authorizer = .lambda(principalId: principal.principalId, context: members, integrationLatency: auth.lambdaLatencyMs)
        }
        return proxy
    }
}

extension LambdaRequest {
    /// The plain values a Lambda authorizer's identity sources and event are made from.
    public static func authorizerValues(
        request: RequestHead, resolution: Resolution, served: Served, captures: PathCaptures,
        requestId: RequestId, epochMs: UInt64
    ) -> AuthorizerRequestValues {
        let proxy = make(
            request: request, resolution: resolution, served: served, captures: captures,
            requestId: requestId, epochMs: epochMs, auth: AuthResult())
        var values = AuthorizerRequestValues(
            region: "us-east-1", accountId: proxy.accountId, apiId: proxy.apiId, stage: proxy.stage,
            httpMethod: proxy.method, path: proxy.path, resource: proxy.resource)
        values.requestPath = proxy.rawPath
        values.rawQueryString = proxy.rawQueryString
        values.headers = proxy.headers.map { AuthorizerRequestValues.Field($0.name, $0.value) }
        values.queryParameters = proxy.queryParameters.map { AuthorizerRequestValues.Field($0.name, $0.value) }
        for (name, value) in proxy.pathParameters { values.pathParameters[name] = value }
        for (name, value) in proxy.stageVariables { values.stageVariables[name] = value }
        values.resourceId = proxy.routeKey
        values.routeKey = proxy.routeKey
        values.domainName = proxy.domainName
        values.domainPrefix = String(proxy.domainName.split(separator: ".").first ?? "")
        values.requestId = proxy.requestId
        values.protocolName = proxy.protocolName
        values.sourceIp = proxy.sourceIp
        values.epochMillis = Int64(epochMs)
        values.requestTime = proxy.requestTime
        return values
    }
}
