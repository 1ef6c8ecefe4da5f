import XCTest
@testable import TurnpikeLambda

final class ProxyResponseTests: XCTestCase {
    private func parse(_ text: String, _ format: PayloadFormat) -> Result<ProxyResponse, ProxyResponseError> {
        ProxyResponse.parse(Array(text.utf8), format: format)
    }

    func testStructuredResponseInBothFormats() throws {
        for format in [PayloadFormat.v1, .v2] {
            let r = try parse(#"{"statusCode": 404, "headers": {"content-type": "application/json"}, "body": "{\"m\":1}"}"#, format).get()
            XCTAssertEqual(r.statusCode, 404)
            XCTAssertEqual(r.headers.map { [$0.name, $0.value] }, [["content-type", "application/json"]])
            XCTAssertEqual(r.body, Array(#"{"m":1}"#.utf8))
        }
    }

    func testBase64BodyIsDecoded() throws {
        let r = try parse(#"{"statusCode": 200, "body": "AP8B", "isBase64Encoded": true}"#, .v2).get()
        XCTAssertEqual(r.body, [0, 255, 1])
    }

    func testMultiValueHeadersMergeWithHeadersAndWinForTheSameName() throws {
        let r = try parse(#"{"statusCode": 200, "headers": {"a": "1", "b": "single"}, "multiValueHeaders": {"b": ["x", "y"]}}"#, .v1).get()
        XCTAssertEqual(r.headers.map { [$0.name, $0.value] }, [["a", "1"], ["b", "x"], ["b", "y"]])
    }

    func testCookiesBecomeSetCookieFieldsIn2() throws {
        let r = try parse(#"{"statusCode": 200, "cookies": ["a=1", "b=2; Path=/"]}"#, .v2).get()
        XCTAssertEqual(r.headers.map { [$0.name, $0.value] }, [["set-cookie", "a=1"], ["set-cookie", "b=2; Path=/"]])
    }

    func testPayload2InfersResponsesForValuesWithoutStatusCode() throws {
        for text in [#"{"hello": "world"}"#, #""just a string""#, "[1,2]", "42", "null"] {
            let r = try parse(text, .v2).get()
            XCTAssertEqual(r.statusCode, 200, text)
            XCTAssertEqual(r.headers.map { [$0.name, $0.value] }, [["content-type", "application/json"]])
            XCTAssertEqual(r.body, Array(text.utf8))
        }
    }

    func testHeaderValuesMayBeNumbersOrBooleans() throws {
        let r = try parse(#"{"statusCode": 200, "headers": {"x-n": 5, "x-b": true}}"#, .v1).get()
        XCTAssertEqual(r.headers.map { [$0.name, $0.value] }, [["x-b", "true"], ["x-n", "5"]])
    }

    func testEveryMalformedResponseIsRefused() {
        let cases: [(String, PayloadFormat, ProxyResponseError)] = [
            ("not json", .v1, .notJSON),
            ("not json", .v2, .notJSON),
            ("", .v2, .notJSON),
            (#""a string""#, .v1, .notAnObject),
            (#"{"body": "x"}"#, .v1, .missingStatusCode),
            (#"{"statusCode": "200"}"#, .v1, .invalidStatusCode),
            (#"{"statusCode": "two hundred"}"#, .v2, .invalidStatusCode),
            (#"{"statusCode": 200.5}"#, .v1, .invalidStatusCode),
            (#"{"statusCode": 99}"#, .v1, .invalidStatusCode),
            (#"{"statusCode": 600}"#, .v2, .invalidStatusCode),
            (#"{"statusCode": null}"#, .v2, .invalidStatusCode),
            (#"{"statusCode": 200, "headers": []}"#, .v1, .invalidHeaders("headers")),
            (#"{"statusCode": 200, "headers": {"a": {"b": 1}}}"#, .v1, .invalidHeaders("a")),
            (#"{"statusCode": 200, "headers": {"bad name": "v"}}"#, .v2, .invalidHeaders("bad name")),
            (#"{"statusCode": 200, "headers": {"x": "a\r\nInjected: 1"}}"#, .v2, .invalidHeaders("x")),
            (#"{"statusCode": 200, "multiValueHeaders": {"x": "notalist"}}"#, .v1, .invalidMultiValueHeaders("x")),
            (#"{"statusCode": 200, "multiValueHeaders": {"x": [{"a": 1}]}}"#, .v1, .invalidMultiValueHeaders("x")),
            (#"{"statusCode": 200, "multiValueHeaders": []}"#, .v1, .invalidMultiValueHeaders("multiValueHeaders")),
            (#"{"statusCode": 200, "cookies": "a=1"}"#, .v2, .invalidCookies),
            (#"{"statusCode": 200, "cookies": [1]}"#, .v2, .invalidCookies),
            (#"{"statusCode": 200, "body": {"a": 1}}"#, .v1, .bodyNotAString),
            (#"{"statusCode": 200, "body": 5}"#, .v2, .bodyNotAString),
            (#"{"statusCode": 200, "isBase64Encoded": "yes"}"#, .v1, .invalidIsBase64Encoded),
            (#"{"statusCode": 200, "body": "%%%", "isBase64Encoded": true}"#, .v2, .invalidBase64Body),
        ]
        for (text, format, error) in cases {
            XCTAssertEqual(parse(text, format), .failure(error), "\(format) \(text)")
        }
    }

    func testRefusalsAreLoggedAsMalformedLambdaProxyResponse() {
        XCTAssertTrue(ProxyResponseError.missingStatusCode.logMessage.hasPrefix("Malformed Lambda proxy response: "))
    }

    func testHeadDropsFramingFieldsTheTransportWrites() {
        let r = ProxyResponse(statusCode: 200, headers: [("Content-Length", "99"), ("Transfer-Encoding", "chunked"),
                                                         ("Connection", "close"), ("x-a", "1")], body: [])
        var out: [UInt8] = []
        r.writeHead(reason: "OK", extra: Array("apigw-requestid: r\r\n".utf8), into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "HTTP/1.1 200 OK\r\nx-a: 1\r\napigw-requestid: r\r\n")
    }

    func testBase64RoundTripsEveryLength() {
        for n in 0..<20 {
            let data = (0..<n).map { UInt8(($0 * 37) & 0xFF) }
            XCTAssertEqual(Base64.decode(Base64.encode(data)), data)
        }
        XCTAssertEqual(String(decoding: Base64.encode(Array("hello".utf8)), as: UTF8.self), "aGVsbG8=")
        XCTAssertNil(Base64.decode(Array("aGVs bG8=".utf8)))
    }
}

final class BinaryMediaTypeTests: XCTestCase {
    private func request(_ kind: ProxyRequest.ApiKind, accept: String?) -> ProxyRequest {
        var r = ProxyRequest(
            method: "GET", rawPath: "/", path: "/", rawQueryString: "",
            headers: accept.map { [("Accept", $0)] } ?? [], routeKey: "GET /", resource: "/", pathParameters: [],
            stageVariables: [], apiId: "a", stage: "prod", requestId: "r", epochMs: 0, requestTime: "", sourceIp: "",
            domainName: "")
        r.apiKind = kind
        return r
    }

    func testRESTDecodesBase64ResponsesOnlyForABinaryAcceptType() {
        XCTAssertTrue(request(.rest, accept: "image/png, */*;q=0.8").decodesBase64Response(binaryMediaTypes: ["image/*"]))
        XCTAssertFalse(request(.rest, accept: "application/json").decodesBase64Response(binaryMediaTypes: ["image/*"]))
        XCTAssertFalse(request(.rest, accept: nil).decodesBase64Response(binaryMediaTypes: ["image/png"]))
        XCTAssertTrue(request(.http, accept: nil).decodesBase64Response(binaryMediaTypes: []))
    }

    func testUndecodedBase64BodyStaysText() throws {
        let r = try ProxyResponse.parse(Array(#"{"statusCode": 200, "body": "AP8B", "isBase64Encoded": true}"#.utf8),
                                        format: .v1, decodesBase64: false).get()
        XCTAssertEqual(r.body, Array("AP8B".utf8))
    }
}
