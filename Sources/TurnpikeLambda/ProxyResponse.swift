import TurnpikeAuth

/// A Lambda proxy integration's answer, read as API Gateway reads it.
public struct ProxyResponse: Sendable, Equatable {
    public var statusCode: Int
    /// In order; a name may repeat (multiValueHeaders, cookies as set-cookie).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public static func == (a: ProxyResponse, b: ProxyResponse) -> Bool {
        a.statusCode == b.statusCode && a.body == b.body
            && a.headers.map { [$0.name, $0.value] } == b.headers.map { [$0.name, $0.value] }
    }
}

/// Why a response was refused (502, and this text in the log).
public enum ProxyResponseError: Error, Equatable, Sendable {
    case notJSON
    case notAnObject
    case missingStatusCode
    case invalidStatusCode
    case invalidHeaders(String)
    case invalidMultiValueHeaders(String)
    case invalidCookies
    case bodyNotAString
    case invalidIsBase64Encoded
    case invalidBase64Body

    public var logMessage: String {
        let reason: String
        switch self {
        case .notJSON: reason = "the payload is not JSON"
        case .notAnObject: reason = "the payload is not a JSON object"
        case .missingStatusCode: reason = "statusCode is missing"
        case .invalidStatusCode: reason = "statusCode is not an integer from 100 to 599"
        case .invalidHeaders(let name): reason = "headers: \(name) is not a valid header field"
        case .invalidMultiValueHeaders(let name): reason = "multiValueHeaders: \(name) is not a list of valid values"
        case .invalidCookies: reason = "cookies is not a list of strings"
        case .bodyNotAString: reason = "body is not a string"
        case .invalidIsBase64Encoded: reason = "isBase64Encoded is not a boolean"
        case .invalidBase64Body: reason = "isBase64Encoded is true but body is not base64"
        }
        return "Malformed Lambda proxy response: \(reason)"
    }
}

extension ProxyResponse {
    /// Parses what the function returned. 1.0: an object with statusCode. 2.0: the same
    /// shape (plus cookies) when it has statusCode; any other JSON value is *inferred* as
    /// 200, `content-type: application/json`, the payload as the body.
    /// `decodesBase64` false (REST without a matching binary media type): a base64 body
    /// goes to the client as the text it is.
    public static func parse(
        _ payload: [UInt8], format: PayloadFormat, decodesBase64: Bool = true
    ) -> Result<ProxyResponse, ProxyResponseError> {
        guard let value = JSONValue(json: payload) else { return .failure(.notJSON) }
        guard case .object(let members) = value else {
            if format == .v2 { return .success(inferred(payload)) }
            return .failure(.notAnObject)
        }
        guard let status = members["statusCode"] else {
            if format == .v2 { return .success(inferred(payload)) }
            return .failure(.missingStatusCode)
        }
        var response = ProxyResponse(statusCode: 0, headers: [], body: [])
        switch status {
        case .integer(let i) where (100...599).contains(i): response.statusCode = Int(i)
        case .number(let d) where d.rounded() == d && (100...599).contains(d): response.statusCode = Int(d)
        default: return .failure(.invalidStatusCode)
        }
        var singles: [(String, String)] = []
        if let headers = members["headers"], headers != .null {
            guard case .object(let fields) = headers else { return .failure(.invalidHeaders("headers")) }
            for name in fields.keys.sorted() {
                guard let text = scalarText(fields[name]!), isToken(name), isFieldValue(text) else {
                    return .failure(.invalidHeaders(name))
                }
                singles.append((name, text))
            }
        }
        var multi: [(String, String)] = []
        if format == .v1, let headers = members["multiValueHeaders"], headers != .null {
            guard case .object(let fields) = headers else { return .failure(.invalidMultiValueHeaders("multiValueHeaders")) }
            for name in fields.keys.sorted() {
                guard isToken(name), case .array(let values) = fields[name]! else {
                    return .failure(.invalidMultiValueHeaders(name))
                }
                for v in values {
                    guard let text = scalarText(v), isFieldValue(text) else { return .failure(.invalidMultiValueHeaders(name)) }
                    multi.append((name, text))
                }
            }
        }
        // Both given: merged; a name in multiValueHeaders keeps only those values.
        let multiNames = Set(multi.map { $0.0.lowercased() })
        response.headers = singles.filter { !multiNames.contains($0.0.lowercased()) } + multi
        if format == .v2, let cookies = members["cookies"], cookies != .null {
            guard case .array(let items) = cookies else { return .failure(.invalidCookies) }
            for item in items {
                guard case .string(let c) = item, isFieldValue(c) else { return .failure(.invalidCookies) }
                response.headers.append(("set-cookie", c))
            }
        }
        var base64 = false
        switch members["isBase64Encoded"] {
        case nil, .null?: break
        case .bool(let b)?: base64 = b
        default: return .failure(.invalidIsBase64Encoded)
        }
        switch members["body"] {
        case nil, .null?: break
        case .string(let text)?:
            if base64 && decodesBase64 {
                guard let decoded = Base64.decode(Array(text.utf8)) else { return .failure(.invalidBase64Body) }
                response.body = decoded
            } else {
                response.body = Array(text.utf8)
            }
        default: return .failure(.bodyNotAString)
        }
        return .success(response)
    }

    static func inferred(_ payload: [UInt8]) -> ProxyResponse {
        ProxyResponse(statusCode: 200, headers: [("content-type", "application/json")], body: payload)
    }

    /// Header values may be strings, numbers or booleans (written as JSON writes them).
    private static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .number, .bool:
            var out = ""
            value.writeJSON(to: &out)
            return out
        default: return nil
        }
    }

    private static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    /// No CR, LF or NUL: a value must not end the field or start another (response splitting).
    private static func isFieldValue(_ value: String) -> Bool {
        !value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }

    /// The status line and fields for the client, without framing fields (the transport
    /// adds Content-Length) and without the blank line. `extra` is appended as is.
    public func writeHead(reason: String, extra: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: Array("HTTP/1.1 \(statusCode) \(reason)\r\n".utf8))
        for (name, value) in headers {
            switch name.lowercased() {
            case "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "proxy-connection":
                continue
            default:
                out.append(contentsOf: Array(name.utf8))
                out.append(contentsOf: [0x3A, 0x20])
                out.append(contentsOf: Array(value.utf8))
                out.append(contentsOf: [0x0D, 0x0A])
            }
        }
        out.append(contentsOf: extra)
    }
}
