import CTurnpikeShim
import XCTest

/// A parsed request head with every slice copied out, plus where each slice started
/// in the input (to pin that slices point into the caller's buffer).
struct ParsedRequest {
    var result: tp_parse_result
    var status: UInt16 = 0
    var headLength = 0
    var method = ""
    var target = ""
    var path = ""
    var query = ""
    var host = ""
    var hasQuery = false
    var contentLength: Int64 = -1
    var versionMinor = 0
    var chunked = false
    var keepAlive = false
    var expectContinue = false
    var upgrade = false
    var headers: [(name: String, value: String)] = []
    var methodOffset = -1
    var pathOffset = -1
    var hostOffset = -1
}

struct ParsedResponse {
    var result: tp_parse_result
    var headLength = 0
    var status = 0
    var reason = ""
    var versionMinor = 0
    var contentLength: Int64 = -1
    var chunked = false
    var keepAlive = false
    var headers: [(name: String, value: String)] = []
}

private func string(_ s: tp_slice) -> String {
    guard let ptr = s.ptr, s.len > 0 else { return "" }
    return String(decoding: UnsafeBufferPointer(start: ptr, count: Int(s.len)), as: UTF8.self)
}

private func offset(_ s: tp_slice, in base: UnsafePointer<UInt8>) -> Int {
    guard let ptr = s.ptr else { return -1 }
    return base.distance(to: ptr)
}

private func headerList<T>(_ tuple: inout T, count: UInt32) -> [(name: String, value: String)] {
    withUnsafeBytes(of: &tuple) { raw in
        let fields = raw.bindMemory(to: tp_header.self)
        return (0..<Int(count)).map { (string(fields[$0].name), string(fields[$0].value)) }
    }
}

func parseRequest(bytes: [UInt8], maxRequestLine: UInt32 = 8192,
                  maxHeadBytes: UInt32 = 65536) -> ParsedRequest {
    var limits = tp_parse_limits(max_request_line: maxRequestLine, max_head_bytes: maxHeadBytes)
    var head = tp_request_head()
    var headLength = 0
    var status: UInt16 = 0
    // A spare byte past the end keeps the base address non-nil for empty input.
    return (bytes + [0]).withUnsafeBufferPointer { buf in
        let base = buf.baseAddress!
        let result = tp_http1_parse_request(base, bytes.count, &limits, &head, &headLength,
                                            &status)
        var parsed = ParsedRequest(result: result, status: status)
        guard result == TP_PARSE_DONE else { return parsed }
        parsed.headLength = headLength
        parsed.method = string(head.method)
        parsed.target = string(head.target)
        parsed.path = string(head.path)
        parsed.query = string(head.query)
        parsed.host = string(head.host)
        parsed.hasQuery = head.has_query != 0
        parsed.contentLength = head.content_length
        parsed.versionMinor = Int(head.version_minor)
        parsed.chunked = head.chunked != 0
        parsed.keepAlive = head.keep_alive != 0
        parsed.expectContinue = head.expect_continue != 0
        parsed.upgrade = head.upgrade != 0
        parsed.headers = headerList(&head.headers, count: head.header_count)
        parsed.methodOffset = offset(head.method, in: base)
        parsed.pathOffset = offset(head.path, in: base)
        parsed.hostOffset = offset(head.host, in: base)
        return parsed
    }
}

func parseRequest(_ text: String, maxRequestLine: UInt32 = 8192,
                  maxHeadBytes: UInt32 = 65536) -> ParsedRequest {
    parseRequest(bytes: Array(text.utf8), maxRequestLine: maxRequestLine,
                 maxHeadBytes: maxHeadBytes)
}

func parseResponse(bytes: [UInt8]) -> ParsedResponse {
    var limits = tp_parse_limits(max_request_line: 8192, max_head_bytes: 65536)
    var head = tp_response_head()
    var headLength = 0
    return bytes.withUnsafeBufferPointer { buf in
        let result = tp_http1_parse_response(buf.baseAddress!, buf.count, &limits, &head,
                                             &headLength)
        var parsed = ParsedResponse(result: result)
        guard result == TP_PARSE_DONE else { return parsed }
        parsed.headLength = headLength
        parsed.status = Int(head.status)
        parsed.reason = string(head.reason)
        parsed.versionMinor = Int(head.version_minor)
        parsed.contentLength = head.content_length
        parsed.chunked = head.chunked != 0
        parsed.keepAlive = head.keep_alive != 0
        parsed.headers = headerList(&head.headers, count: head.header_count)
        return parsed
    }
}

func parseResponse(_ text: String) -> ParsedResponse {
    parseResponse(bytes: Array(text.utf8))
}

/// Asserts that the request is refused with exactly `status`.
func assertRejected(_ text: String, _ status: UInt16, file: StaticString = #filePath,
                    line: UInt = #line) {
    assertRejected(bytes: Array(text.utf8), status, file: file, line: line)
}

func assertRejected(bytes: [UInt8], _ status: UInt16, file: StaticString = #filePath,
                    line: UInt = #line) {
    let parsed = parseRequest(bytes: bytes)
    XCTAssertEqual(parsed.result, TP_PARSE_ERROR,
                   "expected \(status) for \(String(decoding: bytes, as: UTF8.self).debugDescription)",
                   file: file, line: line)
    XCTAssertEqual(parsed.status, status,
                   "for \(String(decoding: bytes, as: UTF8.self).debugDescription)",
                   file: file, line: line)
}

/// Asserts that the request parses, and returns it.
@discardableResult
func assertAccepted(_ text: String, file: StaticString = #filePath,
                    line: UInt = #line) -> ParsedRequest {
    let parsed = parseRequest(text)
    XCTAssertEqual(parsed.result, TP_PARSE_DONE,
                   "status \(parsed.status) for \(text.debugDescription)", file: file, line: line)
    return parsed
}

/// The outcome of feeding a whole chunked body to a fresh decoder in the given pieces.
struct ChunkedOutcome: Equatable {
    var result: tp_chunk_result
    var data: [UInt8]
    var consumed: Int
}

func decodeChunked(_ pieces: [[UInt8]]) -> ChunkedOutcome {
    var decoder = tp_chunked_decoder()
    tp_chunked_init(&decoder)
    var outcome = ChunkedOutcome(result: TP_CHUNK_NEED_MORE, data: [], consumed: 0)
    for piece in pieces {
        piece.withUnsafeBufferPointer { buf in
            var offset = 0
            while true {
                var used = 0
                var data: UnsafePointer<UInt8>? = nil
                var dataLength = 0
                let result = tp_chunked_decode(&decoder, buf.baseAddress! + offset,
                                               buf.count - offset, &used, &data, &dataLength)
                offset += used
                if result == TP_CHUNK_DATA {
                    outcome.data += UnsafeBufferPointer(start: data, count: dataLength)
                    continue
                }
                outcome.result = result
                break
            }
            outcome.consumed += offset
        }
        if outcome.result != TP_CHUNK_NEED_MORE { break }
    }
    return outcome
}

func decodeChunked(_ text: String) -> ChunkedOutcome {
    decodeChunked([Array(text.utf8)])
}
