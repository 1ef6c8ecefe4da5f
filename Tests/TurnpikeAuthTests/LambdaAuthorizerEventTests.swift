import XCTest
@testable import TurnpikeAuth

/// Pins the four Lambda authorizer event shapes against golden events written from the
/// API Gateway developer guide's examples (see Fixtures/README.md).
final class LambdaAuthorizerEventTests: XCTestCase {
    private typealias Field = AuthorizerRequestValues.Field

    private func golden(_ name: String) -> JSONValue {
        JSONValue(json: Array(Fixture.data(name)))!
    }

    private func parsed(_ bytes: [UInt8]) -> JSONValue {
        guard let value = JSONValue(json: bytes) else {
            XCTFail("not JSON: \(String(decoding: bytes, as: UTF8.self))")
            return .null
        }
        return value
    }

    /// Reports the first differing member, so a failure says where.
    private func assertSameJSON(_ actual: JSONValue, _ expected: JSONValue, path: String = "$",
                                file: StaticString = #filePath, line: UInt = #line) {
        if case .object(let a) = actual, case .object(let e) = expected {
            for key in Set(a.keys).union(e.keys).sorted() {
                guard let av = a[key], let ev = e[key] else {
                    XCTFail("\(path).\(key): only in \(a[key] == nil ? "expected" : "actual")", file: file, line: line)
                    continue
                }
                assertSameJSON(av, ev, path: "\(path).\(key)", file: file, line: line)
            }
        } else {
            XCTAssertEqual(actual, expected, path, file: file, line: line)
        }
    }

    // "Input to an Amazon API Gateway Lambda authorizer", TOKEN example, byte for byte
    // (members sorted).
    func testRestTokenEventMatchesTheDocumentedExample() {
        let arn = MethodArn(region: "us-west-2", accountId: "123456789012", apiId: "ymy8tbxw7b", stage: "*",
                            method: "GET", path: "/")
        let event = LambdaAuthorizerEvent.restToken(token: "allow", methodArn: arn)
        XCTAssertEqual(String(decoding: event, as: UTF8.self),
                       #"{"authorizationToken":"allow","methodArn":"arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/","type":"TOKEN"}"#)
    }

    func testTokenIsEscapedAsAJSONString() {
        let arn = MethodArn(region: "r", accountId: "1", apiId: "a", stage: "s", method: "GET", path: "/")
        let event = parsed(LambdaAuthorizerEvent.restToken(token: "Bearer \"x\"\\\n", methodArn: arn))
        XCTAssertEqual(event["authorizationToken"], .string("Bearer \"x\"\\\n"))
    }

    func testRestRequestEventMatchesTheDocumentedExample() {
        var request = AuthorizerRequestValues(region: "us-east-1", accountId: "123456789012", apiId: "s4x3opwd6i",
                                              stage: "test", httpMethod: "GET", path: "/request", resource: "/request")
        request.requestPath = "/test/request"
        request.resourceId = "05c7jb"
        request.requestId = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
        request.apiKey = "test-only-api-key"
        request.sourceIp = "203.0.113.7"
        request.domainName = "s4x3opwd6i.execute-api.us-east-1.amazonaws.com"
        request.domainPrefix = "s4x3opwd6i"
        request.epochMillis = 1_500_359_355_000
        request.requestTime = "18/Jul/2017:06:29:15 +0000"
        request.headers = [
            Field("X-AMZ-Date", "20170718T062915Z"), Field("Accept", "*/*"), Field("HeaderAuth1", "headerValue1"),
            Field("CloudFront-Viewer-Country", "US"), Field("User-Agent", "curl/8.5.0"),
            Field("X-Forwarded-For", "203.0.113.7"), Field("x-forwarded-for", "198.51.100.2"),
            Field("cache-control", "no-cache"), Field("Content-Type", "application/x-www-form-urlencoded"),
        ]
        request.rawQueryString = "QueryString1=queryValue1&QueryString1=queryValue2"
        request.queryParameters = [Field("QueryString1", "queryValue1"), Field("QueryString1", "queryValue2")]
        request.stageVariables = ["StageVar1": "stageValue1"]
        assertSameJSON(parsed(LambdaAuthorizerEvent.restRequest(request)),
                       golden("aws-doc-rest-lambda-authorizer-request-event.json"))
    }

    func testRestRequestWithoutHeadersQueryOrStageVariablesHasNulls() {
        let request = AuthorizerRequestValues(region: "us-east-1", accountId: "1", apiId: "a", stage: "s",
                                              httpMethod: "GET", path: "/", resource: "/")
        let event = parsed(LambdaAuthorizerEvent.restRequest(request))
        for key in ["headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters",
                    "stageVariables"] {
            XCTAssertEqual(event[key], .null, key)
        }
        XCTAssertEqual(event["pathParameters"], .object([:]))
    }

    func testHttpPayloadV1EventMatchesTheDocumentedExample() {
        var request = AuthorizerRequestValues(region: "us-east-1", accountId: "123456789012", apiId: "abcdef123",
                                              stage: "test", httpMethod: "GET", path: "/request", resource: "/request")
        request.resourceId = "05c7jb"
        request.requestId = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
        request.sourceIp = "203.0.113.7"
        request.domainName = "abcdef123.execute-api.us-east-1.amazonaws.com"
        request.domainPrefix = "abcdef123"
        request.epochMillis = 1_500_359_355_000
        request.requestTime = "18/Jul/2017:06:29:15 +0000"
        request.headers = [
            Field("X-AMZ-Date", "20170718T062915Z"), Field("Accept", "*/*"), Field("HeaderAuth1", "headerValue1"),
            Field("CloudFront-Viewer-Country", "US"), Field("CloudFront-Forwarded-Proto", "https"),
            Field("CloudFront-Is-Tablet-Viewer", "false"), Field("CloudFront-Is-Mobile-Viewer", "false"),
            Field("User-Agent", "curl/8.5.0"),
        ]
        request.queryParameters = [Field("QueryString1", "queryValue1")]
        request.stageVariables = ["StageVar1": "stageValue1"]
        assertSameJSON(parsed(LambdaAuthorizerEvent.httpV1(request, identityValues: ["user1", "123"])),
                       golden("aws-doc-http-api-lambda-authorizer-event-v1.json"))
    }

    func testHttpPayloadV2EventMatchesTheDocumentedExample() {
        var request = AuthorizerRequestValues(region: "us-east-1", accountId: "123456789012", apiId: "api-id",
                                              stage: "$default", httpMethod: "POST", path: "/my/path",
                                              resource: "/my/path")
        request.rawQueryString = "parameter1=value1&parameter1=value2&parameter2=value"
        request.queryParameters = [Field("parameter1", "value1"), Field("parameter1", "value2"),
                                   Field("parameter2", "value")]
        request.headers = [Field("Header1", "value1"), Field("Cookie", "cookie1; cookie2"),
                           Field("Header2", "value2"), Field("User-Agent", "agent")]
        request.domainName = "id.execute-api.us-east-1.amazonaws.com"
        request.domainPrefix = "id"
        request.sourceIp = "IP"
        request.requestId = "id"
        request.epochMillis = 1_583_348_638_390
        request.requestTime = "04/Mar/2020:19:03:58 +0000"
        request.pathParameters = ["parameter1": "value1"]
        request.stageVariables = ["stageVariable1": "value1", "stageVariable2": "value2"]
        assertSameJSON(parsed(LambdaAuthorizerEvent.httpV2(request, identityValues: ["user1", "123"])),
                       golden("aws-doc-http-api-lambda-authorizer-event-v2.json"))
    }

    func testHttpPayloadV2JoinsRepeatedHeadersAndOmitsEmptyMembers() {
        var request = AuthorizerRequestValues(region: "us-east-1", accountId: "1", apiId: "a", stage: "$default",
                                              httpMethod: "GET", path: "/", resource: "/")
        request.headers = [Field("X-Tag", "a"), Field("x-tag", "b")]
        let event = parsed(LambdaAuthorizerEvent.httpV2(request, identityValues: ["a,b"]))
        XCTAssertEqual(event["headers"], .object(["x-tag": .string("a,b")]))
        for key in ["cookies", "queryStringParameters", "pathParameters", "stageVariables"] {
            XCTAssertNil(event[key], key)
        }
        XCTAssertEqual(event["rawQueryString"], .string(""))
        XCTAssertNil(event["requestContext"]?["http"]?["userAgent"])
    }

    // An event API Gateway sent for `ANY /{proxy+}` on stage `dev` (quoted in a public
    // project's notes): the route ARN names the request's method and its path without the
    // stage, `rawPath` keeps the stage.
    func testHttpPayloadV2RouteArnUsesTheRequestMethodAndPathWithoutTheStage() {
        var request = AuthorizerRequestValues(region: "eu-west-2", accountId: "700060376888", apiId: "8lk68m9h25",
                                              stage: "dev", httpMethod: "GET", path: "/", resource: "/{proxy+}")
        request.requestPath = "/dev/"
        request.routeKey = "ANY /{proxy+}"
        let event = parsed(LambdaAuthorizerEvent.httpV2(request, identityValues: ["secret"]))
        XCTAssertEqual(event["routeArn"], .string("arn:aws:execute-api:eu-west-2:700060376888:8lk68m9h25/dev/GET/"))
        XCTAssertEqual(event["rawPath"], .string("/dev/"))
        XCTAssertEqual(event["routeKey"], .string("ANY /{proxy+}"))
    }
}
