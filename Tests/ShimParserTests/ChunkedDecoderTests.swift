import CTurnpikeShim
import XCTest

/// Pins tp_chunked_decode: the bytes it yields, where it stops, and the framing faults
/// it refuses.
final class ChunkedDecoderTests: XCTestCase {

    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testChunksAreJoinedAndTheBodyEnds() {
        let body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        let r = decodeChunked(body)
        XCTAssertEqual(r.result, TP_CHUNK_DONE)
        XCTAssertEqual(r.data, bytes("hello world"))
        XCTAssertEqual(r.consumed, body.utf8.count)
    }

    func testSizesAreHexadecimalInEitherCase() {
        let data = String(repeating: "x", count: 26)
        let r = decodeChunked("a\r\n\(data.prefix(10))\r\nA\r\n\(data.prefix(10))\r\n6\r\n\(data.prefix(6))\r\n000\r\n\r\n")
        XCTAssertEqual(r.result, TP_CHUNK_DONE)
        XCTAssertEqual(r.data.count, 26)
        let big = decodeChunked("1F\r\n" + String(repeating: "y", count: 31) + "\r\n0\r\n\r\n")
        XCTAssertEqual(big.result, TP_CHUNK_DONE)
        XCTAssertEqual(big.data.count, 31)
    }

    func testExtensionsAreAcceptedAndDropped() {
        let r = decodeChunked("3;name=value\r\nabc\r\n2 ; a ; b = \"q;\\\"x\" ;c=d\r\nde\r\n0;last\r\n\r\n")
        XCTAssertEqual(r.result, TP_CHUNK_DONE)
        XCTAssertEqual(r.data, bytes("abcde"))
    }

    func testTrailersAreAcceptedAndDropped() {
        let body = "2\r\nhi\r\n0\r\nExpires: never\r\nX-Checksum:  abc \r\n\r\n"
        let r = decodeChunked(body)
        XCTAssertEqual(r.result, TP_CHUNK_DONE)
        XCTAssertEqual(r.data, bytes("hi"))
        XCTAssertEqual(r.consumed, body.utf8.count)
    }

    func testDecodingStopsAtTheEndOfTheBody() {
        let body = "1\r\na\r\n0\r\n\r\n"
        let r = decodeChunked(body + "GET / HTTP/1.1\r\n")
        XCTAssertEqual(r.result, TP_CHUNK_DONE)
        XCTAssertEqual(r.consumed, body.utf8.count)
    }

    func testIncompleteBodyNeedsMore() {
        let r = decodeChunked("5\r\nhel")
        XCTAssertEqual(r.result, TP_CHUNK_NEED_MORE)
        XCTAssertEqual(r.data, bytes("hel"))
        XCTAssertEqual(r.consumed, 6)
    }

    func testByteByByteFeedingYieldsTheSameAsOneBuffer() {
        let bodies = [
            "5\r\nhello\r\n6;x=\"y\"\r\n world\r\n0\r\nT: v\r\n\r\n",
            "10\r\n0123456789abcdef\r\n1\r\n!\r\n0\r\n\r\n",
            "5\r\nhello\r\n6\nworld\r\n",
        ]
        for body in bodies {
            let whole = decodeChunked(body)
            let single = decodeChunked(body.utf8.map { [$0] })
            XCTAssertEqual(single, whole, body.debugDescription)
        }
    }

    func testDataSlicesPointIntoTheCallersBuffer() {
        let input = bytes("4\r\nabcd\r\n0\r\n\r\n")
        input.withUnsafeBufferPointer { buf in
            var d = tp_chunked_decoder()
            tp_chunked_init(&d)
            var used = 0
            var data: UnsafePointer<UInt8>? = nil
            var length = 0
            XCTAssertEqual(tp_chunked_decode(&d, buf.baseAddress!, buf.count, &used, &data, &length), TP_CHUNK_DATA)
            XCTAssertEqual(data, buf.baseAddress! + 3)
            XCTAssertEqual(length, 4)
            XCTAssertEqual(used, 7)
        }
    }

    func testZeroInitialisedDecoderWorks() {
        let input = bytes("0\r\n\r\n")
        input.withUnsafeBufferPointer { buf in
            var d = tp_chunked_decoder()
            var used = 0
            var data: UnsafePointer<UInt8>? = nil
            var length = 0
            XCTAssertEqual(tp_chunked_decode(&d, buf.baseAddress!, buf.count, &used, &data, &length), TP_CHUNK_DONE)
            XCTAssertEqual(used, 5)
        }
    }

    func testSizeOverflowIsRejected() {
        XCTAssertEqual(decodeChunked("10000000000000000\r\n").result, TP_CHUNK_ERROR)   // 17 digits
        XCTAssertEqual(decodeChunked("00000000000000001\r\n").result, TP_CHUNK_ERROR)   // 17 digits
        XCTAssertEqual(decodeChunked("8000000000000000\r\n").result, TP_CHUNK_ERROR)    // 2^63
        XCTAssertEqual(decodeChunked("FFFFFFFFFFFFFFFF\r\n").result, TP_CHUNK_ERROR)
        XCTAssertEqual(decodeChunked("7FFFFFFFFFFFFFFF\r\nabc").result, TP_CHUNK_NEED_MORE)
    }

    func testMalformedFramingIsRejected() {
        let cases = [
            "\r\nhello\r\n0\r\n\r\n",          // no size
            "x\r\n",                            // not hex
            "-5\r\nhello\r\n",                  // sign
            "0x5\r\nhello\r\n",                 // prefix
            "5 \r\nhello\r\n",                  // whitespace, no extension
            "5\r\nhelloX\r\n0\r\n\r\n",         // missing CRLF after data
            "5\r\nhello\n0\r\n\r\n",            // bare LF after data
            "5\r\nhello\rX0\r\n\r\n",           // bare CR after data
            "5\nhello\r\n0\r\n\r\n",            // bare LF after size
            "5\rhello\r\n",                     // bare CR after size
            "2;\nxx\r\n0\r\n\r\n",              // bare LF inside an extension
            "2;a=\"x\ny\"\r\nxx\r\n",           // LF inside a quoted extension
            "2;=x\r\nxx\r\n",                   // extension without a name
            "2;a=\r\nxx\r\n",                   // extension without a value
            "2;a b\r\nxx\r\n",                  // two names
            "0\r\nX: y\n\r\n",                  // bare LF in a trailer
            "0\r\n y\r\n\r\n",                  // obs-fold in trailers
            "0\r\nX : y\r\n\r\n",               // whitespace before the colon
            "0\r\nX: a\u{1}b\r\n\r\n",          // control character in a trailer
            "0\r\n\n",                          // bare LF ending the body
        ]
        for body in cases {
            XCTAssertEqual(decodeChunked(body).result, TP_CHUNK_ERROR, body.debugDescription)
            XCTAssertEqual(decodeChunked(body.utf8.map { [$0] }).result, TP_CHUNK_ERROR, body.debugDescription)
        }
    }

    func testOverlongSizeLineIsRejected() {
        let ext = ";" + String(repeating: "a", count: 5000)
        XCTAssertEqual(decodeChunked("1\(ext)\r\nx\r\n0\r\n\r\n").result, TP_CHUNK_ERROR)
    }

    func testDecoderStaysFinishedAfterDone() {
        let input = bytes("0\r\n\r\n0\r\n\r\n")
        input.withUnsafeBufferPointer { buf in
            var d = tp_chunked_decoder()
            tp_chunked_init(&d)
            var used = 0
            var data: UnsafePointer<UInt8>? = nil
            var length = 0
            XCTAssertEqual(tp_chunked_decode(&d, buf.baseAddress!, buf.count, &used, &data, &length), TP_CHUNK_DONE)
            XCTAssertEqual(used, 5)
            XCTAssertEqual(tp_chunked_decode(&d, buf.baseAddress! + 5, buf.count - 5, &used, &data, &length), TP_CHUNK_DONE)
            XCTAssertEqual(used, 0)
        }
    }
}
