import XCTest
import TurnpikeGateway

final class GatewayResponseTableTests: XCTestCase {
    private func written(_ response: GatewayResponse) -> (head: String, body: String) {
        var out: [UInt8] = []
        let body = GatewayResponseTable().write(response, requestId: fixedRequestId(), into: &out)
        return (String(decoding: out, as: UTF8.self), String(decoding: body, as: UTF8.self))
    }

    private func expect(
        _ response: GatewayResponse, statusLine: String, body: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let got = written(response)
        XCTAssertEqual(
            got.head, statusLine + "\r\ncontent-type: application/json\r\napigw-requestid: JXkbXhJZIAMEVhQ=\r\n",
            file: file, line: line)
        XCTAssertEqual(got.body, body, file: file, line: line)
    }

    func testNotFoundIs404WithNotFoundMessage() {
        expect(.notFound, statusLine: "HTTP/1.1 404 Not Found", body: #"{"message":"Not Found"}"#)
    }

    func testForbiddenIs403WithForbiddenMessage() {
        expect(.forbidden, statusLine: "HTTP/1.1 403 Forbidden", body: #"{"message":"Forbidden"}"#)
    }

    func testRequestTooLargeIs413() {
        expect(.requestTooLarge, statusLine: "HTTP/1.1 413 Request Entity Too Large",
               body: #"{"message":"Request Entity Too Large"}"#)
    }

    func testBadGatewayIs502WithInternalServerErrorMessage() {
        expect(.badGateway, statusLine: "HTTP/1.1 502 Bad Gateway", body: #"{"message":"Internal Server Error"}"#)
    }

    func testServiceUnavailableIs503() {
        expect(.serviceUnavailable, statusLine: "HTTP/1.1 503 Service Unavailable",
               body: #"{"message":"Service Unavailable"}"#)
    }

    func testIntegrationTimeoutIs504WithServiceUnavailableMessage() {
        expect(.integrationTimeout, statusLine: "HTTP/1.1 504 Gateway Timeout",
               body: #"{"message":"Service Unavailable"}"#)
    }

    func testWriteAppendsToWhatIsAlreadyInTheBuffer() {
        var out: [UInt8] = Array("X".utf8)
        _ = GatewayResponseTable().write(.notFound, requestId: fixedRequestId("AAAAAAAAAAAAAAA="), into: &out)
        XCTAssertEqual(
            String(decoding: out, as: UTF8.self),
            "XHTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\napigw-requestid: AAAAAAAAAAAAAAA=\r\n")
    }

    func testStatusMatchesTheStatusLine() {
        let all: [GatewayResponse] = [.notFound, .forbidden, .requestTooLarge, .badGateway, .serviceUnavailable,
                                      .integrationTimeout, .badRequest, .internalError]
        XCTAssertEqual(all.map(\.status), [404, 403, 413, 502, 503, 504, 400, 500])
        for response in all {
            XCTAssertTrue(written(response).head.hasPrefix("HTTP/1.1 \(response.status) \(response.reason)\r\n"))
        }
    }
}
