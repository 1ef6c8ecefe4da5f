import TurnpikeConfig

/// What the access log knows of one finished exchange.
public struct AccessLogRecord: Sendable {
    public var requestId: String
    public var ip: String
    public var requestTimeEpochMs: UInt64
    public var httpMethod: String
    public var path: String
    public var routeKey: String
    public var status: Int
    public var protocolName: String
    public var responseLength: UInt64
    /// Milliseconds; nil when there was no integration call.
    public var integrationLatencyMs: Int?
    public var responseLatencyMs: Int
    public var integrationStatus: Int?
    public var apiId: String
    public var stage: String
    public var domainName: String
    public var integrationError: String?
    public var apiKeyId: String?
    public var authorizerError: String?
    public var claims: [String: String]
    public var deploymentId: String?
    public var isCanaryRequest: Bool

    public init(
        requestId: String, ip: String, requestTimeEpochMs: UInt64, httpMethod: String, path: String,
        routeKey: String, status: Int, protocolName: String, responseLength: UInt64,
        integrationLatencyMs: Int?, responseLatencyMs: Int, integrationStatus: Int?,
        apiId: String, stage: String, domainName: String, integrationError: String?,
        apiKeyId: String? = nil, authorizerError: String? = nil, claims: [String: String] = [:],
        deploymentId: String? = nil, isCanaryRequest: Bool = false
    ) {
        self.requestId = requestId
        self.ip = ip
        self.requestTimeEpochMs = requestTimeEpochMs
        self.httpMethod = httpMethod
        self.path = path
        self.routeKey = routeKey
        self.status = status
        self.protocolName = protocolName
        self.responseLength = responseLength
        self.integrationLatencyMs = integrationLatencyMs
        self.responseLatencyMs = responseLatencyMs
        self.integrationStatus = integrationStatus
        self.apiId = apiId
        self.stage = stage
        self.domainName = domainName
        self.integrationError = integrationError
        self.apiKeyId = apiKeyId
        self.authorizerError = authorizerError
        self.claims = claims
        self.deploymentId = deploymentId
        self.isCanaryRequest = isCanaryRequest
    }

    /// `$context.NAME` as the access log sees it; "-" when there is no value, as AWS logs.
    public func value(_ name: String) -> String {
        switch name {
        case "requestId", "extendedRequestId": requestId
        case "identity.sourceIp", "ip": ip
        case "requestTime": AccessLogFormatter.clfTime(epochMs: requestTimeEpochMs)
        case "requestTimeEpoch": String(requestTimeEpochMs)
        case "httpMethod": httpMethod
        case "path": path
        case "routeKey": routeKey
        case "status": String(status)
        case "protocol": protocolName
        case "responseLength": String(responseLength)
        case "integrationLatency", "integration.latency": integrationLatencyMs.map(String.init) ?? "-"
        case "responseLatency": String(responseLatencyMs)
        case "integrationStatus", "integration.status": integrationStatus.map(String.init) ?? "-"
        case "apiId": apiId
        case "stage": stage
        case "domainName": domainName
        case "integrationErrorMessage", "integration.error": integrationError ?? "-"
        case "identity.apiKeyId", "apiKeyId": apiKeyId ?? "-"
        case "authorizer.error": authorizerError ?? "-"
        case "deploymentId": deploymentId ?? "-"
        case "isCanaryRequest": isCanaryRequest ? "true" : "false"
        default:
            name.hasPrefix("authorizer.claims.")
                ? claims[String(name.dropFirst("authorizer.claims.".count))] ?? "-" : "-"
        }
    }
}

/// Turns records into lines: API Gateway's JSON with `$context` names by default, or a
/// configured `$context.NAME` template.
public enum AccessLogFormatter {
    public static let defaultFields = [
        "requestId", "ip", "requestTime", "httpMethod", "routeKey", "status", "protocol",
        "responseLength", "integrationLatency", "responseLatency", "integrationStatus",
    ]

    public static func line(_ record: AccessLogRecord, format: ValueTemplate?) -> String {
        guard let format else {
            var s = "{"
            for (i, name) in defaultFields.enumerated() {
                if i > 0 { s += "," }
                s += "\"\(name)\":"
                switch name {
                case "status", "responseLength", "responseLatency":
                    s += record.value(name)
                case "integrationLatency":
                    s += record.integrationLatencyMs.map(String.init) ?? "null"
                case "integrationStatus":
                    s += record.integrationStatus.map(String.init) ?? "null"
                default:
                    s += jsonString(record.value(name))
                }
            }
            return s + "}"
        }
        var s = ""
        for part in format.parts {
            switch part {
            case .literal(let text): s += text
            case .variable(.context(let name)): s += record.value(name)
            case .variable: s += "-"
            }
        }
        return s
    }

    /// A JSON string literal for `value` (also used for the admin endpoint's bodies).
    public static func jsonString(_ value: String) -> String {
        var s = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case "\n": s += "\\n"
            case "\r": s += "\\r"
            case "\t": s += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    s += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    s.unicodeScalars.append(scalar)
                }
            }
        }
        return s + "\""
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `26/Nov/2026:13:42:32 +0000`, the format of `$context.requestTime`.
    public static func clfTime(epochMs: UInt64) -> String {
        let secs = Int(epochMs / 1000)
        let days = secs / 86400
        let rem = secs % 86400
        let (y, m, d) = civilFromDays(days)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(d))/\(months[m - 1])/\(y):\(two(rem / 3600)):\(two(rem % 3600 / 60)):\(two(rem % 60)) +0000"
    }

    /// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
