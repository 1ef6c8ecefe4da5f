/// Why a Lambda authorizer did not produce a usable answer, with the outcome API Gateway
/// gives for it: 401 for the caller's fault, 500 (authorizer configuration error) for
/// the function's.
public enum LambdaAuthorizerFailure: Error, Sendable, Equatable {
    /// An identity source was missing or empty; the function is not invoked.
    case identitySourceMissing
    /// A TOKEN authorizer's token did not match `identityValidationExpression`; the
    /// function is not invoked.
    case tokenFailedValidation
    /// The function failed with the error message `Unauthorized`.
    case unauthorizedByFunction
    /// The function could not be invoked, timed out, or failed with any other error.
    case functionFailed
    /// The response is not one JSON document.
    case responseNotJSON
    /// The response is JSON but not an object.
    case responseNotObject
    /// A policy response without `principalId`, or one that is not a string.
    case invalidPrincipalId
    /// A policy response without `policyDocument`, or one that is not an object.
    case missingPolicyDocument
    /// The policy document is not one API Gateway can evaluate (the text says what).
    case invalidPolicy(String)
    /// A `context` that is not an object, or (REST) a member that is an object, array or null.
    case invalidContext(key: String?)
    /// `usageIdentifierKey` is present but not a string.
    case invalidUsageIdentifierKey
    /// A simple response without a boolean `isAuthorized`.
    case invalidIsAuthorized

    /// 401 or 500.
    public var status: Int { decision(for: .rest).status }

    /// What the client gets for this failure.
    public func decision(for kind: AuthorizerAPIKind) -> AuthorizerDecision {
        switch self {
        case .identitySourceMissing, .tokenFailedValidation, .unauthorizedByFunction: .unauthorized
        default: .failure(kind)
        }
    }

    /// The function's error message decides: exactly `Unauthorized` is the documented way
    /// for a function to refuse with 401 (the TOKEN authorizer example in "Use API Gateway
    /// Lambda authorizers" calls back with "Unauthorized"); anything else is a 500.
    public static func functionError(message: String) -> LambdaAuthorizerFailure {
        message == "Unauthorized" ? .unauthorizedByFunction : .functionFailed
    }

    /// For `$context.authorizer.error` and logs.
    public var logDescription: String {
        switch self {
        case .identitySourceMissing: "an identity source is missing"
        case .tokenFailedValidation: "the token does not match the identity validation expression"
        case .unauthorizedByFunction: "the authorizer function answered Unauthorized"
        case .functionFailed: "the authorizer function failed"
        case .responseNotJSON: "the authorizer response is not JSON"
        case .responseNotObject: "the authorizer response is not a JSON object"
        case .invalidPrincipalId: "the authorizer response has no string principalId"
        case .missingPolicyDocument: "the authorizer response has no policyDocument object"
        case .invalidPolicy(let why): "the authorizer policy is invalid: \(why)"
        case .invalidContext(let key?): "the authorizer context value for \(key) is not a string, number or boolean"
        case .invalidContext(nil): "the authorizer context is not an object"
        case .invalidUsageIdentifierKey: "the authorizer usageIdentifierKey is not a string"
        case .invalidIsAuthorized: "the authorizer response has no boolean isAuthorized"
        }
    }
}
