/// The JSON event API Gateway invokes a Lambda authorizer with, in each of its four shapes.
///
/// Shapes from the API Gateway developer guide: "Input to an Amazon API Gateway Lambda
/// authorizer" (REST TOKEN and REQUEST) and "Working with AWS Lambda authorizers for HTTP
/// APIs" (payload format 1.0 and 2.0). REST REQUEST events also carry `multiValueHeaders`
/// and `multiValueQueryStringParameters`, and their `requestContext` the proxy-integration
/// fields (`domainName`, `protocol`, `requestTime`, ...), as the Lambda proxy event does.
/// Object members are written in sorted order.
public enum LambdaAuthorizerEvent {
    /// REST TOKEN: `{type, authorizationToken, methodArn}`.
    public static func restToken(token: String, methodArn: MethodArn) -> [UInt8] {
        JSONValue.object([
            "type": .string("TOKEN"),
            "authorizationToken": .string(token),
            "methodArn": .string(methodArn.text),
        ]).jsonBytes
    }

    /// REST REQUEST. `headers` and `queryStringParameters` keep the last value of a repeated
    /// name, the `multiValue` maps keep them all; each is null when empty, as are
    /// `stageVariables`. `pathParameters` is `{}` when empty, as the documented example shows.
    public static func restRequest(_ request: AuthorizerRequestValues) -> [UInt8] {
        var event = requestMembers(request)
        event["multiValueHeaders"] = multiValue(request.headers, caseInsensitive: true)
        event["multiValueQueryStringParameters"] = multiValue(request.queryParameters, caseInsensitive: false)
        return JSONValue.object(event).jsonBytes
    }

    /// HTTP API, payload format 1.0: the REST REQUEST shape plus `version`, and the identity
    /// source values joined with commas as both `identitySource` and `authorizationToken`.
    public static func httpV1(_ request: AuthorizerRequestValues, identityValues: [String]) -> [UInt8] {
        var event = requestMembers(request)
        let joined = JSONValue.string(identityValues.joined(separator: ","))
        event["version"] = .string("1.0")
        event["identitySource"] = joined
        event["authorizationToken"] = joined
        return JSONValue.object(event).jsonBytes
    }

    /// HTTP API, payload format 2.0. Header names lower-cased, repeated headers and query
    /// parameters joined with commas, the Cookie header given as `cookies` instead; absent
    /// or empty members are omitted, not null.
    public static func httpV2(_ request: AuthorizerRequestValues, identityValues: [String]) -> [UInt8] {
        var headers: [String: JSONValue] = [:]
        var cookies: [JSONValue] = []
        for field in request.headers {
            let name = field.name.lowercased()
            if name == "cookie" {
                for cookie in field.value.split(separator: ";") {
                    let trimmed = cookie.drop(while: { $0 == " " })
                    if !trimmed.isEmpty { cookies.append(.string(String(trimmed))) }
                }
            } else if case .string(let earlier)? = headers[name] {
                headers[name] = .string(earlier + "," + field.value)
            } else {
                headers[name] = .string(field.value)
            }
        }
        var query: [String: JSONValue] = [:]
        for field in request.queryParameters {
            if case .string(let earlier)? = query[field.name] {
                query[field.name] = .string(earlier + "," + field.value)
            } else {
                query[field.name] = .string(field.value)
            }
        }
        var http: [String: JSONValue] = [
            "method": .string(request.httpMethod),
            "path": .string(request.requestPath),
            "protocol": .string(request.protocolName),
            "sourceIp": .string(request.sourceIp),
        ]
        if let agent = request.joinedHeader("user-agent") { http["userAgent"] = .string(agent) }
        var event: [String: JSONValue] = [
            "version": .string("2.0"),
            "type": .string("REQUEST"),
            "routeArn": .string(request.methodArn.text),
            "identitySource": .array(identityValues.map(JSONValue.string)),
            "routeKey": .string(request.routeKey),
            "rawPath": .string(request.requestPath),
            "rawQueryString": .string(request.rawQueryString),
            "requestContext": .object([
                "accountId": .string(request.accountId),
                "apiId": .string(request.apiId),
                "domainName": .string(request.domainName),
                "domainPrefix": .string(request.domainPrefix),
                "http": .object(http),
                "requestId": .string(request.requestId),
                "routeKey": .string(request.routeKey),
                "stage": .string(request.stage),
                "time": .string(request.requestTime),
                "timeEpoch": .integer(request.epochMillis),
            ]),
        ]
        if !cookies.isEmpty { event["cookies"] = .array(cookies) }
        if !headers.isEmpty { event["headers"] = .object(headers) }
        if !query.isEmpty { event["queryStringParameters"] = .object(query) }
        if !request.pathParameters.isEmpty { event["pathParameters"] = stringMap(request.pathParameters) }
        if !request.stageVariables.isEmpty { event["stageVariables"] = stringMap(request.stageVariables) }
        return JSONValue.object(event).jsonBytes
    }

    /// The members REST REQUEST and HTTP payload 1.0 events share.
    private static func requestMembers(_ request: AuthorizerRequestValues) -> [String: JSONValue] {
        var identity: [String: JSONValue] = ["sourceIp": .string(request.sourceIp)]
        if let key = request.apiKey { identity["apiKey"] = .string(key) }
        if let agent = request.lastHeader("user-agent") { identity["userAgent"] = .string(agent) }
        return [
            "type": .string("REQUEST"),
            "methodArn": .string(request.methodArn.text),
            "resource": .string(request.resource),
            "path": .string(request.path),
            "httpMethod": .string(request.httpMethod),
            "headers": lastValues(request.headers, caseInsensitive: true),
            "queryStringParameters": lastValues(request.queryParameters, caseInsensitive: false),
            "pathParameters": stringMap(request.pathParameters),
            "stageVariables": request.stageVariables.isEmpty ? .null : stringMap(request.stageVariables),
            "requestContext": .object([
                "path": .string(request.requestPath),
                "accountId": .string(request.accountId),
                "resourceId": .string(request.resourceId),
                "stage": .string(request.stage),
                "requestId": .string(request.requestId),
                "identity": .object(identity),
                "resourcePath": .string(request.resource),
                "httpMethod": .string(request.httpMethod),
                "apiId": .string(request.apiId),
                "domainName": .string(request.domainName),
                "domainPrefix": .string(request.domainPrefix),
                "protocol": .string(request.protocolName),
                "requestTime": .string(request.requestTime),
                "requestTimeEpoch": .integer(request.epochMillis),
            ]),
        ]
    }

    private static func stringMap(_ map: [String: String]) -> JSONValue {
        .object(map.mapValues(JSONValue.string))
    }

    /// The first spelling of a name keys every later value of it (headers compare names
    /// case-insensitively, query parameters exactly).
    private static func grouped(_ fields: [AuthorizerRequestValues.Field],
                                caseInsensitive: Bool) -> [(name: String, values: [String])] {
        var order: [(name: String, values: [String])] = []
        var index: [String: Int] = [:]
        for field in fields {
            let key = caseInsensitive ? field.name.lowercased() : field.name
            if let i = index[key] {
                order[i].values.append(field.value)
            } else {
                index[key] = order.count
                order.append((field.name, [field.value]))
            }
        }
        return order
    }

    private static func lastValues(_ fields: [AuthorizerRequestValues.Field], caseInsensitive: Bool) -> JSONValue {
        let groups = grouped(fields, caseInsensitive: caseInsensitive)
        if groups.isEmpty { return .null }
        var map: [String: JSONValue] = [:]
        for group in groups { map[group.name] = .string(group.values.last!) }
        return .object(map)
    }

    private static func multiValue(_ fields: [AuthorizerRequestValues.Field], caseInsensitive: Bool) -> JSONValue {
        let groups = grouped(fields, caseInsensitive: caseInsensitive)
        if groups.isEmpty { return .null }
        var map: [String: JSONValue] = [:]
        for group in groups { map[group.name] = .array(group.values.map(JSONValue.string)) }
        return .object(map)
    }
}
