import CTurnpikeShim
import XCTest

/// Pins tp_http1_parse_request: what it accepts, what it extracts, and the exact status
/// it answers for every head that could be read two ways.
final class RequestParserTests: XCTestCase {

    // MARK: Accepted heads

    func testSimpleGetIsParsed() {
        let text = "GET /pets HTTP/1.1\r\nHost: api.example.com\r\nAccept: */*\r\n\r\n"
        let r = assertAccepted(text)
        XCTAssertEqual(r.headLength, text.utf8.count)
        XCTAssertEqual(r.method, "GET")
        XCTAssertEqual(r.target, "/pets")
        XCTAssertEqual(r.path, "/pets")
        XCTAssertFalse(r.hasQuery)
        XCTAssertEqual(r.query, "")
        XCTAssertEqual(r.host, "api.example.com")
        XCTAssertEqual(r.versionMinor, 1)
        XCTAssertEqual(r.contentLength, -1)
        XCTAssertFalse(r.chunked)
        XCTAssertTrue(r.keepAlive)
        XCTAssertFalse(r.expectContinue)
        XCTAssertFalse(r.upgrade)
        XCTAssertEqual(r.headers.map(\.name), ["Host", "Accept"])
        XCTAssertEqual(r.headers.map(\.value), ["api.example.com", "*/*"])
    }

    func testPostWithContentLengthReportsTheLengthAndStopsAtTheBody() {
        let head = "POST /pets HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n\r\n"
        let r = assertAccepted(head + "{\"name\":\"x\"}\n")
        XCTAssertEqual(r.method, "POST")
        XCTAssertEqual(r.contentLength, 13)
        XCTAssertEqual(r.headLength, head.utf8.count)
    }

    func testChunkedPostIsFlaggedChunkedWithoutLength() {
        let r = assertAccepted("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n")
        XCTAssertTrue(r.chunked)
        XCTAssertEqual(r.contentLength, -1)
    }

    func testPipelinedHeadsAreParsedOneAtATime() {
        let first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
        let second = "POST /b?x=1 HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\n\r\n"
        let bytes = Array((first + second).utf8)
        let r1 = parseRequest(bytes: bytes)
        XCTAssertEqual(r1.result, TP_PARSE_DONE)
        XCTAssertEqual(r1.headLength, first.utf8.count)
        XCTAssertEqual(r1.path, "/a")
        let r2 = parseRequest(bytes: Array(bytes[r1.headLength...]))
        XCTAssertEqual(r2.result, TP_PARSE_DONE)
        XCTAssertEqual(r2.headLength, second.utf8.count)
        XCTAssertEqual(r2.path, "/b")
        XCTAssertEqual(r2.query, "x=1")
        XCTAssertEqual(r2.host, "b")
    }

    func testLeadingEmptyLinesAreSkippedAndCounted() {
        let text = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"
        let r = assertAccepted(text)
        XCTAssertEqual(r.headLength, text.utf8.count)
        XCTAssertEqual(r.methodOffset, 4)
        XCTAssertEqual(r.method, "GET")
    }

    func testSlicesPointIntoTheInputBuffer() {
        let r = assertAccepted("GET /p?q HTTP/1.1\r\nHost: h\r\n\r\n")
        XCTAssertEqual(r.methodOffset, 0)
        XCTAssertEqual(r.pathOffset, 4)
        XCTAssertEqual(r.hostOffset, 25)
    }

    func testEveryStrictPrefixOfAValidHeadNeedsMore() {
        let heads = [
            "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Empty:\r\nX-Pad:  v  \r\n\r\n",
            "\r\nPOST / HTTP/1.0\r\nContent-Length: 5, 5\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        ]
        for head in heads {
            let bytes = Array(head.utf8)
            XCTAssertEqual(parseRequest(bytes: bytes).headLength, bytes.count, head)
            for n in 0..<bytes.count {
                XCTAssertEqual(parseRequest(bytes: Array(bytes[..<n])).result, TP_PARSE_NEED_MORE,
                               "prefix of \(n) bytes of \(head.debugDescription)")
            }
        }
    }

    func testQueryIsSplitAtTheFirstQuestionMark() {
        let cases: [(target: String, path: String, query: String, hasQuery: Bool)] = [
            ("/a/b", "/a/b", "", false),
            ("/a?x=1&y=2", "/a", "x=1&y=2", true),
            ("/a?", "/a", "", true),
            ("/a?x=?", "/a", "x=?", true),
            ("/?", "/", "", true),
        ]
        for c in cases {
            let r = assertAccepted("GET \(c.target) HTTP/1.1\r\nHost: a\r\n\r\n")
            XCTAssertEqual(r.target, c.target)
            XCTAssertEqual(r.path, c.path, c.target)
            XCTAssertEqual(r.query, c.query, c.target)
            XCTAssertEqual(r.hasQuery, c.hasQuery, c.target)
        }
    }

    func testAbsoluteFormTargetTakesPathAndQueryAfterTheAuthority() {
        let r = assertAccepted("GET http://example.com:8080/pets/1?x=y HTTP/1.1\r\nHost: example.com\r\n\r\n")
        XCTAssertEqual(r.target, "http://example.com:8080/pets/1?x=y")
        XCTAssertEqual(r.path, "/pets/1")
        XCTAssertEqual(r.query, "x=y")
        XCTAssertEqual(r.host, "example.com")
        let bare = assertAccepted("GET HTTPS://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n")
        XCTAssertEqual(bare.path, "")
        XCTAssertFalse(bare.hasQuery)
    }

    func testAsteriskFormIsAcceptedForOptions() {
        let r = assertAccepted("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(r.target, "*")
        XCTAssertEqual(r.path, "*")
    }

    func testHostIsExtractedCaseInsensitivelyWithWhitespaceTrimmed() {
        let r = assertAccepted("GET / HTTP/1.1\r\nhOsT: \t api.example.com:8443 \t\r\n\r\n")
        XCTAssertEqual(r.host, "api.example.com:8443")
        XCTAssertEqual(assertAccepted("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n").host, "[::1]:80")
    }

    func testHttp10WithoutHostIsAccepted() {
        let r = assertAccepted("GET / HTTP/1.0\r\n\r\n")
        XCTAssertEqual(r.versionMinor, 0)
        XCTAssertEqual(r.host, "")
    }

    func testFieldValuesAreTrimmedAndMayHoldTabsAndObsText() {
        let bytes = Array("GET / HTTP/1.1\r\nHost: a\r\nX-A:  one\ttwo  \r\nX-B: caf".utf8)
            + [0xC3, 0xA9] + Array("\r\nX-C:\r\n\r\n".utf8)
        let r = parseRequest(bytes: bytes)
        XCTAssertEqual(r.result, TP_PARSE_DONE)
        XCTAssertEqual(r.headers.count, 4)
        XCTAssertEqual(r.headers[1].value, "one\ttwo")
        XCTAssertEqual(r.headers[2].value, "café")
        XCTAssertEqual(r.headers[3].value, "")
    }

    func testMethodMayBeAnyToken() {
        XCTAssertEqual(assertAccepted("M-SEARCH / HTTP/1.1\r\nHost: a\r\n\r\n").method, "M-SEARCH")
        XCTAssertEqual(assertAccepted("purge /x HTTP/1.1\r\nHost: a\r\n\r\n").method, "purge")
    }

    // MARK: Keep-alive, Expect, Upgrade

    func testKeepAliveFollowsVersionAndConnectionTokens() {
        let cases: [(version: String, connection: String?, keepAlive: Bool)] = [
            ("1.1", nil, true),
            ("1.1", "close", false),
            ("1.1", "CLOSE", false),
            ("1.1", "keep-alive, Close", false),
            ("1.1", "foo ,close", false),
            ("1.1", "closed", true),
            ("1.1", "keep-alive", true),
            ("1.0", nil, false),
            ("1.0", "keep-alive", true),
            ("1.0", "Keep-Alive", true),
            ("1.0", "foo, keep-alive", true),
            ("1.0", "keep-alive, close", false),
        ]
        for c in cases {
            let host = c.version == "1.1" ? "Host: a\r\n" : ""
            let connection = c.connection.map { "Connection: \($0)\r\n" } ?? ""
            let r = assertAccepted("GET / HTTP/\(c.version)\r\n\(host)\(connection)\r\n")
            XCTAssertEqual(r.keepAlive, c.keepAlive, "HTTP/\(c.version) Connection: \(c.connection ?? "-")")
        }
    }

    func testConnectionTokensAcrossSeveralFieldsCount() {
        let r = assertAccepted("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nconnection: close\r\n\r\n")
        XCTAssertFalse(r.keepAlive)
    }

    func testExpectContinueIsRecognisedCaseInsensitively() {
        XCTAssertTrue(assertAccepted("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n").expectContinue)
        XCTAssertTrue(assertAccepted("PUT / HTTP/1.1\r\nHost: a\r\nexpect: 100-Continue\r\n\r\n").expectContinue)
        XCTAssertFalse(assertAccepted("PUT / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n").expectContinue)
    }

    func testExpectContinueIsIgnoredOnHttp10() {
        XCTAssertFalse(assertAccepted("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expectContinue)
    }

    func testUpgradeNeedsTheConnectionTokenAndTheUpgradeField() {
        let both = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"
        XCTAssertTrue(assertAccepted(both).upgrade)
        XCTAssertFalse(assertAccepted("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").upgrade)
        XCTAssertFalse(assertAccepted("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n").upgrade)
    }

    // MARK: Framing: Content-Length and Transfer-Encoding

    func testContentLengthWithTransferEncodingIsRejected() {
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400)
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400)
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n", 400)
    }

    func testDifferingContentLengthsAreRejected() {
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400)
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", 400)
    }

    func testIdenticalDuplicateContentLengthsCountOnce() {
        XCTAssertEqual(assertAccepted("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n").contentLength, 5)
        XCTAssertEqual(assertAccepted("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").contentLength, 5)
    }

    func testInvalidContentLengthValuesAreRejected() {
        for value in ["", "-1", "+5", "5a", "0x10", "5 5", "5,", ",5", "5,,5", "1.0",
                      "9223372036854775808", "99999999999999999999999"] {
            assertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(value)\r\n\r\n", 400)
        }
    }

    func testLargeContentLengthUpToInt64MaxIsAccepted() {
        XCTAssertEqual(assertAccepted("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4611686018427387904\r\n\r\n").contentLength, 1 << 62)
        XCTAssertEqual(assertAccepted("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n").contentLength, Int64.max)
        XCTAssertEqual(assertAccepted("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n").contentLength, 7)
    }

    func testTransferCodingOtherThanChunkedIsNotImplemented() {
        for value in ["gzip", "gzip, chunked", "identity", "deflate;q=1, chunked"] {
            assertRejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(value)\r\n\r\n", 501)
        }
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501)
    }

    func testChunkedNotLastIsRejected() {
        for value in ["chunked, gzip", "chunked, chunked", "chunked;x=1", "chunked,", ", chunked", "chunked , ,", "chu nked"] {
            assertRejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(value)\r\n\r\n", 400)
        }
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400)
        assertRejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400)
    }

    func testTransferEncodingOnHttp10IsRejected() {
        assertRejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400)
    }

    // MARK: Line and field syntax

    func testObsFoldIsRejected() {
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400)
    }

    func testBareCarriageReturnAnywhereIsRejected() {
        assertRejected("GET / HTTP/1.1\rHost: a\r\n\r\n", 400)
        assertRejected("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n", 400)
        assertRejected("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400)
    }

    func testBareLineFeedLineEndingsAreRejected() {
        assertRejected("GET / HTTP/1.1\nHost: a\n\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: a\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\n\n", 400)
        assertRejected("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nX: a\nb\r\nHost: a\r\n\r\n", 400)
    }

    func testWhitespaceBeforeTheColonIsRejected() {
        assertRejected("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n", 400)
    }

    func testInvalidTokenCharactersInMethodOrFieldNameAreRejected() {
        for line in ["G(T / HTTP/1.1", "GE\"T / HTTP/1.1", "G\u{7F}T / HTTP/1.1", "GÉT / HTTP/1.1"] {
            assertRejected("\(line)\r\nHost: a\r\n\r\n", 400)
        }
        for name in ["X@Y", "X/Y", "[X]", "X{Y}", "X;Y", ""] {
            assertRejected("GET / HTTP/1.1\r\nHost: a\r\n\(name): v\r\n\r\n", 400)
        }
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n", 400)
    }

    func testControlCharactersInFieldValuesAreRejected() {
        for byte: UInt8 in [0x00, 0x01, 0x08, 0x0B, 0x0C, 0x1F, 0x7F] {
            let bytes = Array("GET / HTTP/1.1\r\nHost: a\r\nX: a".utf8) + [byte] + Array("b\r\n\r\n".utf8)
            assertRejected(bytes: bytes, 400)
        }
    }

    func testControlCharactersOrSpacesInTheTargetAreRejected() {
        assertRejected(bytes: Array("GET /a".utf8) + [0x00] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8), 400)
        assertRejected(bytes: Array("GET /a".utf8) + [0x09] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8), 400)
        assertRejected("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400)
        assertRejected("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400)
    }

    func testMalformedRequestLinesAreRejected() {
        for line in ["GET  / HTTP/1.1", "GET / HTTP/1.1 ", " GET / HTTP/1.1", "GET /", "GET / ",
                     "GET / http/1.1", "GET / HTTP/1", "GET / HTTP/1.10", "GET / HTTP/11",
                     "GET\t/ HTTP/1.1", "GET pets HTTP/1.1", "GET ftp://a/ HTTP/1.1",
                     "GET http:// HTTP/1.1", "CONNECT example.com:443 HTTP/1.1"] {
            assertRejected("\(line)\r\nHost: a\r\n\r\n", 400)
        }
    }

    func testAsteriskFormIsRejectedForOtherMethods() {
        assertRejected("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400)
        assertRejected("options * HTTP/1.1\r\nHost: a\r\n\r\n", 400)
    }

    func testUnsupportedHttpVersionsAreRejectedWith505() {
        for version in ["2.0", "1.2", "0.9", "3.1", "9.9"] {
            assertRejected("GET / HTTP/\(version)\r\nHost: a\r\n\r\n", 505)
        }
    }

    // MARK: Host

    func testMissingHostOnHttp11IsRejected() {
        assertRejected("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400)
    }

    func testRepeatedHostIsRejected() {
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400)
    }

    func testHostWithCharactersOutsideHostSyntaxIsRejected() {
        for host in ["a b", "a/b", "user@a", "a\\b", "a\"b"] {
            assertRejected("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n", 400)
        }
    }

    // MARK: Limits

    func testRequestLineOverTheLimitIsRejectedWith414() {
        let line = "GET /" + String(repeating: "a", count: 30) + " HTTP/1.1" // 44 bytes
        XCTAssertEqual(parseRequest("\(line)\r\nHost: a\r\n\r\n", maxRequestLine: 44).result, TP_PARSE_DONE)
        let over = parseRequest("\(line)\r\nHost: a\r\n\r\n", maxRequestLine: 43)
        XCTAssertEqual(over.result, TP_PARSE_ERROR)
        XCTAssertEqual(over.status, 414)
        // Known before the line ends: no need to wait for the rest.
        let partial = parseRequest("GET /" + String(repeating: "a", count: 100), maxRequestLine: 43)
        XCTAssertEqual(partial.status, 414)
    }

    func testHeadOverTheLimitIsRejectedWith431() {
        let head = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + String(repeating: "p", count: 50) + "\r\n\r\n"
        let size = UInt32(head.utf8.count)
        XCTAssertEqual(parseRequest(head, maxHeadBytes: size).result, TP_PARSE_DONE)
        let over = parseRequest(head, maxHeadBytes: size - 1)
        XCTAssertEqual(over.result, TP_PARSE_ERROR)
        XCTAssertEqual(over.status, 431)
        let unfinished = parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "p", count: 100), maxHeadBytes: 64)
        XCTAssertEqual(unfinished.status, 431)
    }

    func testEndlessLeadingEmptyLinesHitTheHeadLimit() {
        let r = parseRequest(String(repeating: "\r\n", count: 40), maxHeadBytes: 64)
        XCTAssertEqual(r.result, TP_PARSE_ERROR)
        XCTAssertEqual(r.status, 431)
    }

    func testMoreThanMaxHeaderFieldsIsRejectedWith431() {
        let fields = (1..<Int(TP_MAX_HEADERS)).map { "X-\($0): v\r\n" }.joined()
        let atLimit = "GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n"
        XCTAssertEqual(assertAccepted(atLimit).headers.count, Int(TP_MAX_HEADERS))
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\n\(fields)X-Last: v\r\n\r\n", 431)
    }
}
