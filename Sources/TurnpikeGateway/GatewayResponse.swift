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
    /// REST APIs: no resource or method matches (403).
    case missingAuthenticationToken

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
        case .missingAuthenticationToken: 403
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
        case .missingAuthenticationToken: "Forbidden"
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
        case .missingAuthenticationToken: "Missing Authentication Token"
        }
    }

    /// REST APIs' wording where it differs from HTTP APIs'.
    public var restMessage: String {
        switch self {
        case .integrationTimeout: "Endpoint request timed out"
        case .badGateway, .internalError: "Internal server error"
        default: message
        }
    }

    /// REST APIs' `x-amzn-ErrorType` for the response, when AWS sends one.
    public var restErrorType: String? {
        switch self {
        case .missingAuthenticationToken: "MissingAuthenticationTokenException"
        case .forbidden: "ForbiddenException"
        case .unauthorized: "UnauthorizedException"
        case .tooManyRequests: "ThrottlingException"
        case .limitExceeded: "LimitExceededException"
        case .notFound: "NotFoundException"
        case .requestTooLarge: "RequestTooLargeException"
        case .badRequest: "BadRequestException"
        default: nil
        }
    }

    /// REST: status line, fixed fields, ending just before the request id value.
    public var restHeadPrefix: [UInt8] {
        let type = restErrorType.map { "x-amzn-ErrorType: \($0)\r\n" } ?? ""
        return Array("HTTP/1.1 \(status) \(reason)\r\ncontent-type: application/json\r\n\(type)x-amzn-RequestId: ".utf8)
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
    private let restHeads: [[UInt8]]
    private let restBodies: [[UInt8]]
    /// Indexed by the response's raw value (its position among the cases).
    public init() {
        heads = GatewayResponse.allCases.map(\.headPrefix)
        bodies = GatewayResponse.allCases.map(\.body)
        restHeads = GatewayResponse.allCases.map(\.restHeadPrefix)
        restBodies = GatewayResponse.allCases.map { Array("{\"message\":\"\($0.restMessage)\"}".utf8) }
    }

    /// Writes the head (ending after the request id line) into `out`, returns the body.
    /// `rest`: as REST APIs answer (their wording, x-amzn-RequestId, x-amzn-ErrorType).
    public func write(_ response: GatewayResponse, requestId: RequestId, into out: inout [UInt8], rest: Bool = false) -> [UInt8] {
        let i = response.rawValue
        out.append(contentsOf: rest ? restHeads[i] : heads[i])
        requestId.append(to: &out)
        out.append(ascii: "\r\n")
        return rest ? restBodies[i] : bodies[i]
    }
}
