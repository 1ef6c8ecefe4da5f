/// The execute-api ARN of one request, which a Lambda authorizer's policy is evaluated
/// against: `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`.
///
/// The path is the request's path as the API sees it (path parameter values filled in,
/// no stage prefix) without its leading slash, so the root resource ends in `/GET/`
/// ("Input to an Amazon API Gateway Lambda authorizer" shows `ymy8tbxw7b/*/GET/`;
/// "Statement reference of IAM policies for executing API" gives the format). REST APIs
/// send it as `methodArn`, HTTP APIs as `routeArn` (HTTP API Lambda authorizer page,
/// `arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request`), built the
/// same way from the request's method and path.
public struct MethodArn: Sendable, Hashable, CustomStringConvertible {
    public let region: String
    public let accountId: String
    public let apiId: String
    public let stage: String
    public let method: String
    /// Without the leading slash.
    public let path: String
    /// The whole ARN text.
    public let text: String

    /// `path` may be given with or without its leading slash; `method` is upper-cased
    /// (ARNs compare case-sensitively and API Gateway writes verbs in capitals).
    public init(region: String, accountId: String, apiId: String, stage: String, method: String, path: String) {
        self.region = region
        self.accountId = accountId
        self.apiId = apiId
        self.stage = stage
        self.method = method.uppercased()
        self.path = path.hasPrefix("/") ? String(path.dropFirst()) : path
        text = "arn:aws:execute-api:\(region):\(accountId):\(apiId)/\(stage)/\(self.method)/\(self.path)"
    }

    public var description: String { text }
}
