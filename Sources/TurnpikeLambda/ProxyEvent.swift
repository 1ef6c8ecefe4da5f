/// The event API Gateway sends a Lambda proxy integration, in payload format 1.0 or 2.0,
/// field for field as AWS writes it (field order, null versus omitted, header joining).
public enum PayloadFormat: String, Sendable, Equatable {
    case v1 = "1.0"
    case v2 = "2.0"
}

public enum ProxyEvent {
    /// The event's JSON text. `body` is the whole request body; `binary` says whether it
    /// travels base64-encoded (see `ProxyRequest.bodyIsBinary`).
    public static func build(_ request: ProxyRequest, body: [UInt8], binary: Bool, format: PayloadFormat) -> [UInt8] {
        var json = JSONText(capacity: 1024 + body.count * (binary ? 2 : 1))
        switch format {
        case .v1: writeV1(request, body: body, binary: binary, into: &json)
        case .v2: writeV2(request, body: body, binary: binary, into: &json)
        }
        return json.bytes
    }

    // MARK: 2.0

    static func writeV2(_ r: ProxyRequest, body: [UInt8], binary: Bool, into json: inout JSONText) {
        json.beginObject()
        json.member("version", "2.0")
        json.member("routeKey", r.routeKey)
        json.member("rawPath", r.rawPath)
        json.member("rawQueryString", r.rawQueryString)
        // Every Cookie field's crumbs, in order; the Cookie fields leave `headers`.
        var cookies: [String] = []
        for field in r.headers where field.name.lowercased() == "cookie" {
            for crumb in field.value.split(separator: ";") {
                let c = crumb.trimmingSpaces
                if !c.isEmpty { cookies.append(String(c)) }
            }
        }
        if !cookies.isEmpty {
            json.key("cookies")
            json.beginArray()
            for c in cookies { json.string(c) }
            json.endArray()
        }
        json.key("headers")
        json.beginObject()
        for (name, value) in joined(r.headers.filter { $0.name.lowercased() != "cookie" }, lowercase: true) {
            json.member(name, value)
        }
        json.endObject()
        let query = r.queryParameters
        if !query.isEmpty {
            json.key("queryStringParameters")
            json.beginObject()
            for (name, value) in joined(query, lowercase: false) { json.member(name, value) }
            json.endObject()
        }
        json.key("requestContext")
        json.beginObject()
        json.member("accountId", r.accountId)
        json.member("apiId", r.apiId)
        if let authorizer = r.authorizer {
            json.key("authorizer")
            json.beginObject()
            switch authorizer {
            case .jwt(let claims, let scopes):
                json.key("jwt")
                writeClaims(claims, scopes: scopes, into: &json)
            case .lambda(_, let context, _):
                json.key("lambda")
                json.beginObject()
                for member in context {
                    json.key(member.key)
                    json.raw(member.valueJSON)
                }
                json.endObject()
            }
            json.endObject()
        }
        json.member("domainName", r.domainName)
        json.member("domainPrefix", r.domainPrefix)
        json.key("http")
        json.beginObject()
        json.member("method", r.method)
        json.member("path", r.rawPath)
        json.member("protocol", r.protocolName)
        json.member("sourceIp", r.sourceIp)
        json.member("userAgent", r.header("user-agent") ?? "")
        json.endObject()
        json.member("requestId", r.requestId)
        json.member("routeKey", r.routeKey)
        json.member("stage", r.stage)
        json.member("time", r.requestTime)
        json.key("timeEpoch")
        json.int(Int64(r.epochMs))
        json.endObject()
        if !r.pathParameters.isEmpty {
            json.key("pathParameters")
            writeObject(r.pathParameters, into: &json)
        }
        if !r.stageVariables.isEmpty {
            json.key("stageVariables")
            writeObject(r.stageVariables, into: &json)
        }
        if !body.isEmpty {
            json.key("body")
            if binary { json.string(bytes: Base64.encode(body)) } else { json.string(bytes: body) }
        }
        json.key("isBase64Encoded")
        json.bool(binary && !body.isEmpty)
        json.endObject()
    }

    // MARK: 1.0

    static func writeV1(_ r: ProxyRequest, body: [UInt8], binary: Bool, into json: inout JSONText) {
        let lowercase = r.apiKind == .http
        json.beginObject()
        if r.apiKind == .http { json.member("version", "1.0") }
        json.member("resource", r.resource)
        json.member("path", r.apiKind == .rest ? r.path : r.rawPath)
        json.member("httpMethod", r.method)
        // `headers`: the last value of each name wins; `multiValueHeaders`: every value.
        let grouped = groupedByName(r.headers, lowercase: lowercase)
        json.key("headers")
        json.beginObject()
        for (name, values) in grouped { json.member(name, values[values.count - 1]) }
        json.endObject()
        json.key("multiValueHeaders")
        writeLists(grouped, into: &json)
        let query = groupedByName(r.queryParameters, lowercase: false)
        json.key("queryStringParameters")
        if query.isEmpty { json.null() } else {
            json.beginObject()
            for (name, values) in query { json.member(name, values[values.count - 1]) }
            json.endObject()
        }
        json.key("multiValueQueryStringParameters")
        if query.isEmpty { json.null() } else { writeLists(query, into: &json) }
        json.key("requestContext")
        json.beginObject()
        json.member("accountId", r.accountId)
        json.member("apiId", r.apiId)
        json.key("authorizer")
        switch r.authorizer {
        case nil:
            if r.apiKind == .http {
                json.beginObject()
                json.key("claims"); json.null()
                json.key("scopes"); json.null()
                json.endObject()
            } else {
                json.null()
            }
        case .jwt(let claims, let scopes)?:
            writeClaims(claims, scopes: scopes, into: &json)
        case .lambda(let principalId, let context, let latency)?:
            // The context's keys sit next to principalId and integrationLatency.
            json.beginObject()
            json.member("principalId", principalId)
            for member in context {
                json.key(member.key)
                json.raw(member.valueJSON)
            }
            json.key("integrationLatency")
            json.int(latency)
            json.endObject()
        }
        json.member("domainName", r.domainName)
        json.member("domainPrefix", r.domainPrefix)
        json.member("extendedRequestId", r.extendedRequestId ?? r.requestId)
        json.member("httpMethod", r.method)
        json.key("identity")
        json.beginObject()
        json.member("accessKey", nil as String?)
        json.member("accountId", nil as String?)
        if r.apiKind == .rest {
            json.member("apiKey", r.apiKey)
            json.member("apiKeyId", r.apiKeyId)
        }
        json.member("caller", nil as String?)
        json.member("cognitoAuthenticationProvider", nil as String?)
        json.member("cognitoAuthenticationType", nil as String?)
        json.member("cognitoIdentityId", nil as String?)
        json.member("cognitoIdentityPoolId", nil as String?)
        json.member("principalOrgId", nil as String?)
        json.member("sourceIp", r.sourceIp)
        json.member("user", nil as String?)
        json.member("userAgent", r.header("user-agent"))
        json.member("userArn", nil as String?)
        json.endObject()
        json.member("path", r.rawPath)
        json.member("protocol", r.protocolName)
        json.member("requestId", r.requestId)
        json.member("requestTime", r.requestTime)
        json.key("requestTimeEpoch")
        json.int(Int64(r.epochMs))
        json.member("resourceId", r.apiKind == .rest ? r.routeKey : nil)
        json.member("resourcePath", r.resource)
        json.member("stage", r.stage)
        json.endObject()
        json.key("pathParameters")
        if r.pathParameters.isEmpty { json.null() } else { writeObject(r.pathParameters, into: &json) }
        json.key("stageVariables")
        if r.stageVariables.isEmpty { json.null() } else { writeObject(r.stageVariables, into: &json) }
        json.key("body")
        if body.isEmpty { json.null() } else if binary { json.string(bytes: Base64.encode(body)) } else { json.string(bytes: body) }
        json.key("isBase64Encoded")
        json.bool(binary && !body.isEmpty)
        json.endObject()
    }

    // MARK: helpers

    /// `{"claims": {...}, "scopes": [...] or null}`.
    static func writeClaims(_ claims: [UInt8], scopes: [String]?, into json: inout JSONText) {
        json.beginObject()
        json.key("claims")
        json.raw(claims)
        json.key("scopes")
        if let scopes {
            json.beginArray()
            for s in scopes { json.string(s) }
            json.endArray()
        } else {
            json.null()
        }
        json.endObject()
    }

    static func writeObject(_ members: [(name: String, value: String)], into json: inout JSONText) {
        json.beginObject()
        for (name, value) in members { json.member(name, value) }
        json.endObject()
    }

    /// `{"name": ["v1", "v2"], ...}`.
    static func writeLists(_ groups: [(String, [String])], into json: inout JSONText) {
        json.beginObject()
        for (name, values) in groups {
            json.key(name)
            json.beginArray()
            for v in values { json.string(v) }
            json.endArray()
        }
        json.endObject()
    }

    /// Values of repeated names joined with commas, in first-appearance order (2.0).
    static func joined(_ fields: [(name: String, value: String)], lowercase: Bool) -> [(String, String)] {
        groupedByName(fields, lowercase: lowercase).map { ($0.0, $0.1.joined(separator: ",")) }
    }

    /// Values grouped by name in first-appearance order; names compared case-insensitively
    /// (`lowercase` false keeps the first spelling, as REST APIs do).
    static func groupedByName(_ fields: [(name: String, value: String)], lowercase: Bool) -> [(String, [String])] {
        var order: [(String, [String])] = []
        var index: [String: Int] = [:]
        for (name, value) in fields {
            let key = name.lowercased()
            if let i = index[key] {
                order[i].1.append(value)
            } else {
                index[key] = order.count
                order.append((lowercase ? key : name, [value]))
            }
        }
        return order
    }
}
