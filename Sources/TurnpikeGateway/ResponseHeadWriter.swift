import TurnpikeConfig
import TurnpikeCors

/// The respond phase for proxied responses: the head the client receives — the
/// upstream's status and end-to-end fields, response parameter mappings, and the
/// request id. Framing fields are left to the transport.
public enum ResponseHeadWriter {
    /// Returns where the end-to-end fields (upstream's and mapped ones) sit in `out`: what a
    /// cache stores and replays.
    @discardableResult
    public static func write(
        status: Int, reason: UnsafeRawBufferPointer, headers: UnsafeBufferPointer<HeaderField>,
        requestId: RequestId, mappings: [ParameterMapping]?, context: MappingContext?,
        dropsCors: Bool = false, extraHeaders: [UInt8] = [], requestIdField: [UInt8] = defaultRequestIdField,
        into out: inout [UInt8]
    ) -> Range<Int> {
        var status = status
        let upstreamStatus = status
        if let mappings, let context {
            for m in mappings where m.target == .statuscode {
                var value: [UInt8] = []
                context.evaluate(m.value, into: &value)
                if let s = Int(String(decoding: value, as: UTF8.self)), (100...599).contains(s) { status = s }
            }
        }
        out.append(ascii: "HTTP/1.1 ")
        out.append(decimal: status)
        out.append(UInt8(ascii: " "))
        if reason.isEmpty || status != upstreamStatus {
            out.append(string: ReasonPhrase.forStatus(status))
        } else {
            out.append(reason)
        }
        out.append(ascii: "\r\n")
        let fieldsStart = out.count
        let listed = HopByHopHeaders.hasListedNames(headers) ? HopByHopHeaders.connectionListed(headers) : []
        for field in headers {
            if HopByHopHeaders.isResponseHopByHop(field.name) { continue }
            if !listed.isEmpty && listed.contains(where: { ASCII.equalsLowercased(field.name, $0) }) { continue }
            // With CORS configured, the gateway's CORS fields replace the backend's.
            if dropsCors && CorsPolicy.isCorsResponseHeader(field.name) { continue }
            if let mappings, isReplacedByMapping(field.name, mappings) { continue }
            out.append(field.name)
            out.append(ascii: ": ")
            out.append(field.value)
            out.append(ascii: "\r\n")
        }
        if let mappings, let context {
            for m in mappings where m.action != .remove {
                guard case .header(let name) = m.target else { continue }
                out.append(string: name)
                out.append(ascii: ": ")
                context.evaluate(m.value, into: &out)
                out.append(ascii: "\r\n")
            }
        }
        let fields = fieldsStart..<out.count
        out.append(contentsOf: extraHeaders)
        out.append(contentsOf: requestIdField)
        requestId.append(to: &out)
        out.append(ascii: "\r\n")
        return fields
    }

    /// HTTP APIs' request id field (REST APIs pass `x-amzn-RequestId: `).
    public static let defaultRequestIdField: [UInt8] = Array("apigw-requestid: ".utf8)

    /// Overwritten and removed fields go; appended ones stay and gain an extra field.
    private static func isReplacedByMapping(_ name: UnsafeRawBufferPointer, _ mappings: [ParameterMapping]) -> Bool {
        mappings.contains { m in
            if case .header(let n) = m.target, m.action != .append { return ASCII.equalsLowercased(name, Array(n.utf8)) }
            return false
        }
    }
}

/// Standard reason phrases (RFC 9110 §15), for statuses the gateway sets itself.
public enum ReasonPhrase {
    public static func forStatus(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 410: "Gone"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Unknown"
        }
    }
}
