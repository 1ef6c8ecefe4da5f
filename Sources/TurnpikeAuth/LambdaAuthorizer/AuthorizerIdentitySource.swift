/// One identity source expression of a Lambda authorizer: where a request carries a
/// value the authorizer needs.
///
/// HTTP APIs write `$request.header.NAME` (names case-insensitive),
/// `$request.querystring.NAME` (case-sensitive), `$context.NAME` and
/// `$stageVariables.NAME` (HTTP API Lambda authorizer page, "Identity sources"). REST
/// APIs write `method.request.header.NAME`, `method.request.querystring.NAME`,
/// `stageVariables.NAME` and `context.NAME` ("Use API Gateway Lambda authorizers").
public enum IdentitySourceExpression: Sendable, Hashable {
    case header(String)
    case queryString(String)
    case context(String)
    case stageVariable(String)

    public init?(_ text: String) {
        let prefixes: [(String, (String) -> IdentitySourceExpression)] = [
            ("$request.header.", { .header($0) }), ("method.request.header.", { .header($0) }),
            ("$request.querystring.", { .queryString($0) }), ("method.request.querystring.", { .queryString($0) }),
            ("$context.", { .context($0) }), ("context.", { .context($0) }),
            ("$stageVariables.", { .stageVariable($0) }), ("stageVariables.", { .stageVariable($0) }),
        ]
        for (prefix, make) in prefixes where text.hasPrefix(prefix) && text.count > prefix.count {
            self = make(String(text.dropFirst(prefix.count)))
            return
        }
        return nil
    }

    /// The value in this request; nil when absent. A repeated header is its last value for
    /// REST APIs and its values joined with commas for HTTP APIs, as each presents headers;
    /// a repeated query parameter likewise.
    public func value(in request: AuthorizerRequestValues, kind: AuthorizerAPIKind) -> String? {
        switch self {
        case .header(let name):
            return kind == .rest ? request.lastHeader(name) : request.joinedHeader(name)
        case .queryString(let name):
            let values = request.queryParameters.filter { $0.name == name }.map(\.value)
            if values.isEmpty { return nil }
            return kind == .rest ? values.last : values.joined(separator: ",")
        case .context(let name):
            return request.contextVariable(name)
        case .stageVariable(let name):
            return request.stageVariables[name]
        }
    }
}

/// A Lambda authorizer's identity sources, validated once: they give the values the
/// authorizer is invoked with and its results are cached under, or refuse the request
/// with 401 before the function is invoked.
///
/// A missing or empty value is a 401 without invoking the function (HTTP API Lambda
/// authorizer page: "If the client's request doesn't include the identity sources, API
/// Gateway doesn't invoke your Lambda authorizer, and the client receives a 401 error";
/// for REST, "missing, null or empty" identity sources, AWS knowledge center). A TOKEN
/// authorizer's `identityValidationExpression` must match the whole token, else 401
/// without invoking ("When a required token is missing or doesn't match the token
/// validation, the Lambda authorizer isn't invoked").
public struct AuthorizerIdentitySource: @unchecked Sendable {
    // @unchecked: Regex holds no mutable state once compiled; it is only read here.

    public enum ConfigError: Error, Sendable, Equatable {
        case unknownExpression(String)
        case invalidValidationExpression(String)
    }

    public let expressions: [IdentitySourceExpression]
    private let validation: Regex<AnyRegexOutput>?

    /// `validationExpression` is for TOKEN authorizers (one header). No expressions is
    /// valid: HTTP APIs and REST REQUEST authorizers without caching need none.
    public init(expressions: [String], validationExpression: String? = nil) throws(ConfigError) {
        var parsed: [IdentitySourceExpression] = []
        for text in expressions {
            let trimmed = text.trimmingSpaces
            guard let expression = IdentitySourceExpression(trimmed) else { throw .unknownExpression(trimmed) }
            parsed.append(expression)
        }
        self.expressions = parsed
        if let pattern = validationExpression, !pattern.isEmpty {
            do {
                validation = try Regex(pattern)
            } catch {
                throw .invalidValidationExpression(pattern)
            }
        } else {
            validation = nil
        }
    }

    /// REST's single comma-separated `identitySource` string.
    public init(commaSeparated: String, validationExpression: String? = nil) throws(ConfigError) {
        try self.init(expressions: commaSeparated.split(separator: ",").map(String.init),
                      validationExpression: validationExpression)
    }

    /// The values, in expression order, or the 401 failure.
    public func values(in request: AuthorizerRequestValues,
                       kind: AuthorizerAPIKind) throws(LambdaAuthorizerFailure) -> [String] {
        var values: [String] = []
        values.reserveCapacity(expressions.count)
        for expression in expressions {
            guard let value = expression.value(in: request, kind: kind), !value.isEmpty else {
                throw .identitySourceMissing
            }
            values.append(value)
        }
        if let validation, let token = values.first, (try? validation.wholeMatch(in: token)) == nil {
            throw .tokenFailedValidation
        }
        return values
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
