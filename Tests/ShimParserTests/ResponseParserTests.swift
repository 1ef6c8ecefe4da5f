import CTurnpikeShim
import XCTest

/// Pins tp_http1_parse_response: status-line forms, framing, keep-alive, and that
/// anything ambiguous from an upstream is an error (the caller answers 502).
final class ResponseParserTests: XCTestCase {

    func testStatusLineWithReasonIsParsed() {
        let head = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\n"
        let r = parseResponse(head + "not found")
        XCTAssertEqual(r.result, TP_PARSE_DONE)
        XCTAssertEqual(r.headLength, head.utf8.count)
        XCTAssertEqual(r.status, 404)
        XCTAssertEqual(r.reason, "Not Found")
        XCTAssertEqual(r.versionMinor, 1)
        XCTAssertEqual(r.contentLength, 9)
        XCTAssertFalse(r.chunked)
        XCTAssertTrue(r.keepAlive)
        XCTAssertEqual(r.headers.map(\.name), ["Content-Length", "Content-Type"])
    }

    func testStatusLineWithEmptyOrMissingReasonIsParsed() {
        let empty = parseResponse("HTTP/1.1 204 \r\n\r\n")
        XCTAssertEqual(empty.result, TP_PARSE_DONE)
        XCTAssertEqual(empty.status, 204)
        XCTAssertEqual(empty.reason, "")
        let missing = parseResponse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(missing.result, TP_PARSE_DONE)
        XCTAssertEqual(missing.status, 200)
        XCTAssertEqual(missing.reason, "")
    }

    func testReasonMayHoldSpacesTabsAndObsText() {
        let bytes = Array("HTTP/1.1 200 All \tgood ".utf8) + [0xE2, 0x9C, 0x93] + Array("\r\n\r\n".utf8)
        let r = parseResponse(bytes: bytes)
        XCTAssertEqual(r.result, TP_PARSE_DONE)
        XCTAssertEqual(r.reason, "All \tgood ✓")
    }

    func testStatusCodesFrom100To999AreAccepted() {
        for code in [100, 101, 200, 302, 499, 599, 999] {
            let r = parseResponse("HTTP/1.1 \(code) X\r\n\r\n")
            XCTAssertEqual(r.result, TP_PARSE_DONE, "\(code)")
            XCTAssertEqual(r.status, code)
        }
    }

    func testChunkedResponseIsFlaggedChunked() {
        let r = parseResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        XCTAssertEqual(r.result, TP_PARSE_DONE)
        XCTAssertTrue(r.chunked)
        XCTAssertEqual(r.contentLength, -1)
    }

    func testKeepAliveFollowsVersionAndConnection() {
        let cases: [(String, Bool)] = [
            ("HTTP/1.1 200 OK\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nconnection: Keep-Alive, CLOSE\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true),
        ]
        for (text, keepAlive) in cases {
            let r = parseResponse(text)
            XCTAssertEqual(r.result, TP_PARSE_DONE, text)
            XCTAssertEqual(r.keepAlive, keepAlive, text)
        }
    }

    func testEveryStrictPrefixOfAValidResponseHeadNeedsMore() {
        let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\n\r\n".utf8)
        for n in 0..<bytes.count {
            XCTAssertEqual(parseResponse(bytes: Array(bytes[..<n])).result, TP_PARSE_NEED_MORE, "\(n)")
        }
        XCTAssertEqual(parseResponse(bytes: bytes).headLength, bytes.count)
    }

    func testGarbageAndAmbiguousResponsesAreErrors() {
        let cases = [
            "<html>hello</html>\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "HTTP/1.1 099 Odd\r\n\r\n",
            "HTTP/1.1 2x0 OK\r\n\r\n",
            "HTTP/1.1  200 OK\r\n\r\n",
            "HTTP/2.0 200 OK\r\n\r\n",
            "HTTP/1.2 200 OK\r\n\r\n",
            "http/1.1 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\n\n",
            "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        ]
        for text in cases {
            XCTAssertEqual(parseResponse(text).result, TP_PARSE_ERROR, text.debugDescription)
        }
    }

    func testResponsesMayRepeatHostWithoutError() {
        XCTAssertEqual(parseResponse("HTTP/1.1 200 OK\r\nHost: a\r\nHost: b\r\n\r\n").result, TP_PARSE_DONE)
    }
}
