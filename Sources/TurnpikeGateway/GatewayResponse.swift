/// A response the gateway itself gives, with the status and body API Gateway uses.
public enum GatewayResponse: Int, Error, Sendable, Equatable, CaseIterable {
    case notFound
    case forbidden
    case requestTooLarge
    case badGateway
    case serviceUnavailable
    case integrationTimeout
    case badRequest
    case internalError
    case unauthorized
    case tooManyRequests
    case limitExceeded
    /// 421: a mutual-TLS domain asked for over a connection not made (and verified) for it.
    case misdirected
    /// 502 for a Lambda proxy integration: a function error or a malformed response.
    case lambdaFailure

    public var status: Int {
        switch self {
        case .notFound: 404
        case .forbidden: 403
        case .requestTooLarge: 413
        case .badGateway: 502
        case .serviceUnavailable: 503
        case .integrationTimeout: 504
        case .badRequest: 400
        case .internalError: 500
        case .unauthorized: 401
        case .tooManyRequests, .limitExceeded: 429
        case .misdirected: 421
        case .lambdaFailure: 502
        }
    }

    public var reason: String {
        switch self {
        case .notFound: "Not Found"
        case .forbidden: "Forbidden"
        case .requestTooLarge: "Request Entity Too Large"
        case .badGateway: "Bad Gateway"
        case .serviceUnavailable: "Service Unavailable"
        case .integrationTimeout: "Gateway Timeout"
        case .badRequest: "Bad Request"
        case .internalError: "Internal Server Error"
        case .unauthorized: "Unauthorized"
        case .tooManyRequests, .limitExceeded: "Too Many Requests"
        case .misdirected: "Misdirected Request"
        case .lambdaFailure: "Bad Gateway"
        }
    }

    /// The JSON message HTTP APIs answer with (an HTTP API's integration timeout says
    /// "Service Unavailable" with status 504; a failed integration "Internal Server Error").
    public var message: String {
        switch self {
        case .notFound: "Not Found"
        case .forbidden: "Forbidden"
        case .requestTooLarge: "Request Entity Too Large"
        case .badGateway: "Internal Server Error"
        case .serviceUnavailable: "Service Unavailable"
        case .integrationTimeout: "Service Unavailable"
        case .badRequest: "Bad Request"
        case .internalError: "Internal Server Error"
        case .unauthorized: "Unauthorized"
        case .tooManyRequests: "Too Many Requests"
        case .limitExceeded: "Limit Exceeded"
        case .misdirected: "Misdirected Request"
        case .lambdaFailure: "Internal server error"
        }
    }

    /// Status line and fixed fields, ending just before the request id value.
    public var headPrefix: [UInt8] {
        Array("HTTP/1.1 \(status) \(reason)\r\ncontent-type: application/json\r\napigw-requestid: ".utf8)
    }

    public var body: [UInt8] { Array("{\"message\":\"\(message)\"}".utf8) }
}

/// Precomputed bytes of every gateway response, so answering one copies, never formats.
public struct GatewayResponseTable: Sendable {
    private let heads: [[UInt8]]
    private let bodies: [[UInt8]]
    /// Indexed by the response's raw value (its position among the cases).
    public init() {
        heads = GatewayResponse.allCases.map(\.headPrefix)
        bodies = GatewayResponse.allCases.map(\.body)
    }

    /// Writes the head (ending after the request id line) into `out`, returns the body.
    public func write(_ response: GatewayResponse, requestId: RequestId, into out: inout [UInt8]) -> [UInt8] {
        let i = response.rawValue
        out.append(contentsOf: heads[i])
        requestId.append(to: &out)
        out.append(ascii: "\r\n")
        return bodies[i]
    }
}
