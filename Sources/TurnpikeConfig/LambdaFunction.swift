import Foundation

/// A local Lambda function (extension): a pool of processes that speak the Lambda Runtime API.
public struct LambdaFunction: Sendable, Equatable {
    /// Unique; AWS_PROXY integrations name it in `function:NAME` or a Lambda ARN.
    public let name: String
    /// argv of one worker process, e.g. `["python3", "-m", "awslambdaric", "app.handler"]`.
    public let command: [String]
    /// Absolute; the config file's folder when not given.
    public let workingDirectory: String
    /// Added to the gateway's own environment and the Lambda variables.
    public let environment: [String: String]
    /// A running invocation is killed (and its process replaced) after this.
    public let timeoutSeconds: Int
    public let memorySize: Int
    /// The pool size: concurrent invocations beyond it are throttled (429).
    public let reservedConcurrency: Int
    /// Set: the function runs elsewhere, behind a Lambda Invoke API; `command` is empty.
    public let remote: RemoteFunction?

    public init(
        name: String, command: [String], workingDirectory: String, environment: [String: String] = [:],
        timeoutSeconds: Int = 3, memorySize: Int = 128, reservedConcurrency: Int = 10, remote: RemoteFunction? = nil
    ) {
        self.remote = remote
        self.name = name
        self.command = command
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.timeoutSeconds = timeoutSeconds
        self.memorySize = memorySize
        self.reservedConcurrency = reservedConcurrency
    }
}

/// A function behind a Lambda Invoke API (`POST /2015-03-31/functions/NAME/invocations`):
/// what `sam local start-lambda`, LocalStack and the Lambda RIE serve.
public struct RemoteFunction: Sendable, Equatable {
    /// Numeric address or `localhost`, and port, of an `http://` endpoint.
    public let host: String
    public let port: Int
    /// The name the endpoint knows the function by.
    public let functionName: String
    public let region: String
    /// Requests are signed (SigV4) when set.
    public let accessKeyId: String?
    public let secretAccessKey: String?
    public let sessionToken: String?

    public init(
        host: String, port: Int, functionName: String, region: String = "us-east-1",
        accessKeyId: String? = nil, secretAccessKey: String? = nil, sessionToken: String? = nil
    ) {
        self.host = host
        self.port = port
        self.functionName = functionName
        self.region = region
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

extension LambdaFunction {
    /// The function an AWS_PROXY integration URI names: `function:NAME`,
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`, or API Gateway's
    /// `arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/<lambda arn>/invocations`.
    public static func functionName(inIntegrationUri uri: String) -> String? {
        var text = Substring(uri)
        if text.hasPrefix("arn:aws:apigateway:") {
            guard let start = text.range(of: "/functions/"), text.hasSuffix("/invocations") else { return nil }
            text = text[start.upperBound..<text.index(text.endIndex, offsetBy: -"/invocations".count)]
        }
        guard let marker = text.range(of: "function:", options: .backwards) else { return nil }
        if marker.lowerBound != text.startIndex && !text.hasPrefix("arn:aws:lambda:") { return nil }
        let name = text[marker.upperBound...].split(separator: ":", omittingEmptySubsequences: false).first ?? ""
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        return !name.isEmpty && name.count <= 64 && allowed ? String(name) : nil
    }
}

/// A Lambda authorizer (`authorizerType` REQUEST or TOKEN) whose function runs locally.
public struct LambdaAuthorizerConfig: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case request = "REQUEST"
        /// REST APIs: the caller's token from one header.
        case token = "TOKEN"
    }

    public let name: String
    public let kind: Kind
    /// The local function `authorizerUri` names.
    public let functionName: String
    /// HTTP APIs: "1.0" or "2.0" (the event and response format); REST: nil.
    public let payloadFormatVersion: String?
    /// As written: `$request.header.Authorization` (HTTP) or `method.request.header.Authorization` (REST).
    public let identitySource: [String]
    /// 0 disables the result cache.
    public let resultTtlSeconds: Int
    public let enableSimpleResponses: Bool
    /// TOKEN: a regular expression the whole token must match, else 401 without invoking.
    public let identityValidationExpression: String?

    public init(
        name: String, kind: Kind, functionName: String, payloadFormatVersion: String?, identitySource: [String],
        resultTtlSeconds: Int = 300, enableSimpleResponses: Bool = false, identityValidationExpression: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.functionName = functionName
        self.payloadFormatVersion = payloadFormatVersion
        self.identitySource = identitySource
        self.resultTtlSeconds = resultTtlSeconds
        self.enableSimpleResponses = enableSimpleResponses
        self.identityValidationExpression = identityValidationExpression
    }
}
