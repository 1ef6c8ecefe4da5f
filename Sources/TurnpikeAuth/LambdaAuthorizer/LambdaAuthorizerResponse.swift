/// A Lambda authorizer function's answer, parsed and validated once; a cached one is
/// asked again for each request's method ARN.
///
/// Formats ("Output from an API Gateway Lambda authorizer"; HTTP API Lambda authorizer
/// page, "Lambda authorizer response format"):
/// - policy: `{principalId, policyDocument, context?, usageIdentifierKey?}`. REST context
///   values must be strings, numbers or booleans ("you cannot set a JSON object or array
///   as a valid value of any key in the context map"; such a response is an authorizer
///   configuration error, 500). HTTP APIs accept any JSON value in `context` (their
///   documented examples return `arrayKey` and `mapKey`).
/// - simple (HTTP API payload 2.0 with simple responses enabled): `{isAuthorized, context?}`.
public enum LambdaAuthorizerResponse: Sendable, Equatable {
    case policy(principalId: String, policy: IAMPolicy, context: [String: JSONValue], usageIdentifierKey: String?)
    case simple(isAuthorized: Bool, context: [String: JSONValue])

    /// Which response an authorizer is configured to expect.
    public enum Format: Sendable, Hashable {
        /// REST TOKEN or REQUEST authorizers.
        case restPolicy
        /// HTTP API authorizers returning an IAM policy (payload 1.0, or 2.0 without simple responses).
        case httpPolicy
        /// HTTP API payload 2.0 with `enableSimpleResponses`.
        case httpSimple

        public var apiKind: AuthorizerAPIKind { self == .restPolicy ? .rest : .http }
    }

    /// Parses the function's returned payload.
    public init(parsing payload: [UInt8], format: Format) throws(LambdaAuthorizerFailure) {
        guard let value = JSONValue(json: payload) else { throw .responseNotJSON }
        guard case .object(let members) = value else { throw .responseNotObject }
        let context = try Self.context(members["context"], anyValue: format != .restPolicy)
        if format == .httpSimple {
            guard case .bool(let authorized)? = members["isAuthorized"] else { throw .invalidIsAuthorized }
            self = .simple(isAuthorized: authorized, context: context)
            return
        }
        guard case .string(let principalId)? = members["principalId"] else { throw .invalidPrincipalId }
        guard let document = members["policyDocument"] else { throw .missingPolicyDocument }
        let policy = try IAMPolicy(document: document)
        let usageKey: String?
        switch members["usageIdentifierKey"] {
        case nil, .null?: usageKey = nil
        case .string(let key)?: usageKey = key
        default: throw .invalidUsageIdentifierKey
        }
        self = .policy(principalId: principalId, policy: policy, context: context, usageIdentifierKey: usageKey)
    }

    /// The decision for one request: a policy is evaluated for `methodArn`, a simple
    /// response allows or refuses whatever the method.
    public func decision(methodArn: String, kind: AuthorizerAPIKind) -> AuthorizerDecision {
        switch self {
        case .simple(let authorized, let context):
            authorized
                ? .allow(AuthorizedPrincipal(principalId: nil, context: context, usageIdentifierKey: nil))
                : .forbidden(kind, explicitDeny: false)
        case .policy(let principalId, let policy, let context, let usageKey):
            switch IAMPolicyEvaluator.evaluate(policy, methodArn: methodArn) {
            case .allow: .allow(AuthorizedPrincipal(principalId: principalId, context: context, usageIdentifierKey: usageKey))
            case .explicitDeny: .forbidden(kind, explicitDeny: true)
            case .implicitDeny: .forbidden(kind, explicitDeny: false)
            }
        }
    }

    public func decision(methodArn: MethodArn, kind: AuthorizerAPIKind) -> AuthorizerDecision {
        decision(methodArn: methodArn.text, kind: kind)
    }

    private static func context(_ value: JSONValue?, anyValue: Bool) throws(LambdaAuthorizerFailure) -> [String: JSONValue] {
        switch value {
        case nil, .null?: return [:]
        case .object(let members)?:
            if !anyValue {
                // Sorted, so the key a failure names does not depend on hashing.
                for key in members.keys.sorted() {
                    switch members[key]! {
                    case .string, .integer, .number, .bool: continue
                    default: throw .invalidContext(key: key)
                    }
                }
            }
            return members
        default: throw .invalidContext(key: nil)
        }
    }
}
