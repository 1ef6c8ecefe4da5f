import Foundation
import XCTest
@testable import TurnpikeLambda

/// Events against golden JSON derived from AWS's documented payload examples
/// (Fixtures/README.md names the page).
final class ProxyEventTests: XCTestCase {
    private func fixture(_ name: String) throws -> NSDictionary {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? NSDictionary)
    }

    private func parsed(_ bytes: [UInt8]) throws -> NSDictionary {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary, String(decoding: bytes, as: UTF8.self))
    }

    /// The request behind AWS's 2.0 example (http-api-develop-integrations-lambda, "Payload format structure").
    private var awsV2Request: ProxyRequest {
        var r = ProxyRequest(
            method: "POST", rawPath: "/my/path", path: "/my/path",
            rawQueryString: "parameter1=value1&parameter1=value2&parameter2=value",
            headers: [("Header1", "value1"), ("Header2", "value1"), ("Cookie", "cookie1; cookie2"),
                      ("header2", "value2"), ("User-Agent", "agent")],
            routeKey: "$default", resource: "/my/path", pathParameters: [("parameter1", "value1")],
            stageVariables: [("stageVariable1", "value1"), ("stageVariable2", "value2")],
            apiId: "api-id", stage: "$default", requestId: "id", epochMs: 1_583_348_638_390,
            requestTime: "12/Mar/2020:19:03:58 +0000", sourceIp: "192.0.2.1",
            domainName: "id.execute-api.us-east-1.amazonaws.com")
        r.accountId = "123456789012"
        return r
    }

    /// The request behind AWS's 1.0 example (same page).
    private var awsV1Request: ProxyRequest {
        var r = ProxyRequest(
            method: "GET", rawPath: "/my/path", path: "/my/path",
            rawQueryString: "parameter1=value1&parameter1=value2&parameter2=value",
            headers: [("header1", "value1"), ("header2", "value1"), ("header2", "value2"), ("User-Agent", "user-agent")],
            routeKey: "GET /my/path", resource: "/my/path", pathParameters: [], stageVariables: [],
            apiId: "id", stage: "$default", requestId: "id=", epochMs: 1_583_349_317_135,
            requestTime: "04/Mar/2020:19:15:17 +0000", sourceIp: "192.0.2.1",
            domainName: "id.execute-api.us-east-1.amazonaws.com")
        r.accountId = "123456789012"
        r.extendedRequestId = "request-id"
        return r
    }

    func testPayload2EventMatchesAWSDocumentedExample() throws {
        let event = ProxyEvent.build(awsV2Request, body: Array("Hello from Lambda".utf8), binary: false, format: .v2)
        XCTAssertEqual(try parsed(event), try fixture("aws-http-api-payload-2.0-example"))
    }

    func testPayload1EventMatchesAWSDocumentedExample() throws {
        let event = ProxyEvent.build(awsV1Request, body: Array("Hello from Lambda!".utf8), binary: false, format: .v1)
        XCTAssertEqual(try parsed(event), try fixture("aws-http-api-payload-1.0-example"))
    }

    func testPayload2OmitsAbsentFieldsInsteadOfNull() throws {
        var r = awsV2Request
        r.rawQueryString = ""
        r.headers = [("accept", "*/*")]
        r.pathParameters = []
        r.stageVariables = []
        let event = try parsed(ProxyEvent.build(r, body: [], binary: false, format: .v2))
        for key in ["body", "cookies", "queryStringParameters", "pathParameters", "stageVariables"] {
            XCTAssertNil(event[key], key)
        }
        XCTAssertEqual(event["isBase64Encoded"] as? Bool, false)
        XCTAssertEqual(event["rawQueryString"] as? String, "")
    }

    func testPayload1WritesNullForAbsentFields() throws {
        var r = awsV1Request
        r.rawQueryString = ""
        let event = try parsed(ProxyEvent.build(r, body: [], binary: false, format: .v1))
        for key in ["body", "queryStringParameters", "multiValueQueryStringParameters", "pathParameters", "stageVariables"] {
            XCTAssertTrue(event[key] is NSNull, key)
        }
    }

    func testBinaryBodyIsBase64EncodedInBothFormats() throws {
        let body: [UInt8] = [0, 255, 1, 254, 10, 13]
        for format in [PayloadFormat.v1, .v2] {
            let event = try parsed(ProxyEvent.build(awsV2Request, body: body, binary: true, format: format))
            XCTAssertEqual(event["body"] as? String, "AP8B/goN")
            XCTAssertEqual(event["isBase64Encoded"] as? Bool, true)
        }
    }

    func testHTTPAPIsTreatNonTextContentTypesAsBinary() {
        var r = awsV2Request
        for (type, binary) in [("application/json; charset=utf-8", false), ("text/plain", false),
                               ("application/vnd.api+json", false), ("application/octet-stream", true),
                               ("image/png", true), ("application/x-www-form-urlencoded", true)] {
            r.headers = [("Content-Type", type)]
            XCTAssertEqual(r.bodyIsBinary(binaryMediaTypes: []), binary, type)
        }
    }

    func testRESTEventsKeepHeaderNameCaseAndOnlyConfiguredBinaryTypes() throws {
        var r = awsV1Request
        r.apiKind = .rest
        r.headers = [("X-Custom", "a"), ("x-custom", "b"), ("Content-Type", "image/png")]
        XCTAssertFalse(r.bodyIsBinary(binaryMediaTypes: []))
        XCTAssertTrue(r.bodyIsBinary(binaryMediaTypes: ["image/*"]))
        let event = try parsed(ProxyEvent.build(r, body: [], binary: false, format: .v1))
        XCTAssertEqual(event["headers"] as? NSDictionary, ["X-Custom": "b", "Content-Type": "image/png"])
        XCTAssertEqual(event["multiValueHeaders"] as? NSDictionary, ["X-Custom": ["a", "b"], "Content-Type": ["image/png"]])
        XCTAssertNil(event["version"])
    }

    func testQueryParametersArePercentDecoded() throws {
        var r = awsV2Request
        r.rawQueryString = "q=a%20b&e=&plain"
        let event = try parsed(ProxyEvent.build(r, body: [], binary: false, format: .v2))
        XCTAssertEqual(event["queryStringParameters"] as? NSDictionary, ["q": "a b", "e": "", "plain": ""])
    }

    func testLambdaAuthorizerContextInBothFormats() throws {
        var r = awsV2Request
        r.authorizer = .lambda(
            principalId: "user-1",
            context: [.init(key: "tier", valueJSON: Array("\"premium\"".utf8)), .init(key: "n", valueJSON: Array("3".utf8))],
            integrationLatency: 12)
        let v2 = try parsed(ProxyEvent.build(r, body: [], binary: false, format: .v2))
        XCTAssertEqual((v2["requestContext"] as? NSDictionary)?["authorizer"] as? NSDictionary,
                       ["lambda": ["tier": "premium", "n": 3]])
        let v1 = try parsed(ProxyEvent.build(r, body: [], binary: false, format: .v1))
        XCTAssertEqual((v1["requestContext"] as? NSDictionary)?["authorizer"] as? NSDictionary,
                       ["principalId": "user-1", "tier": "premium", "n": 3, "integrationLatency": 12])
    }

    func testStringsAreEscaped() throws {
        var r = awsV2Request
        r.headers = [("x-quote", "a\"b\\c\u{1}")]
        let event = try parsed(ProxyEvent.build(r, body: Array("line\nnext\t\"".utf8), binary: false, format: .v2))
        XCTAssertEqual((event["headers"] as? NSDictionary)?["x-quote"] as? String, "a\"b\\c\u{1}")
        XCTAssertEqual(event["body"] as? String, "line\nnext\t\"")
    }
}
