/// Why a JWT authorizer refused a request, with the response API Gateway gives.
///
/// Every refusal but a missing scope is 401 `{"message":"Unauthorized"}` with a
/// `www-authenticate` challenge in API Gateway's form, `Bearer scope="" error="invalid_token"
/// error_description="..."` (developer guide, "Troubleshooting issues with HTTP API JWT
/// authorizers", which shows "the token does not have a valid audience"; "the token has
/// expired" is what API Gateway is reported to send for an expired token). AWS documents
/// no other descriptions; the rest are Turnpike's, in the same style.
public enum JWTFailure: Error, Sendable, Equatable {
    /// No token in the identity source.
    case missingToken
    /// Not three base64url parts, or a header or claim set that is not a JSON object.
    case malformedToken
    /// `alg` is `none`, an HMAC algorithm, or one this gateway does not verify, or the
    /// header lists `crit` extensions it cannot honour.
    case unsupportedAlgorithm
    /// The header has no `kid`; API Gateway requires one that names a JWKS key.
    case missingKeyId
    /// No key in the JWKS has the token's `kid` (a refetch has been asked for).
    case unknownKeyId
    /// The JWKS has not been fetched yet (or every fetch so far failed).
    case keysUnavailable
    /// The token's `alg` does not fit the key's type, curve or own `alg`.
    case algorithmMismatch
    case invalidSignature
    case invalidIssuer
    case invalidAudience
    /// No `exp` claim, or one that is not a number.
    case missingExpiration
    case expired
    /// `nbf` is in the future.
    case notYetValid
    /// `iat` is in the future.
    case issuedInFuture
    /// The token is valid but has none of the route's `authorizationScopes`.
    case insufficientScope

    public var status: Int { self == .insufficientScope ? 403 : 401 }

    public var message: String { self == .insufficientScope ? "Forbidden" : "Unauthorized" }

    /// The `error_description` text; also `$context.authorizer.error`.
    public var logDescription: String {
        switch self {
        case .missingToken: "the token is missing"
        case .malformedToken: "the token is malformed"
        case .unsupportedAlgorithm: "the token's signing algorithm is not supported"
        case .missingKeyId: "the token has no kid"
        case .unknownKeyId: "the token's kid matches no key in the JWKS"
        case .keysUnavailable: "the signing keys are not available"
        case .algorithmMismatch: "the token's algorithm does not match its key"
        case .invalidSignature: "the token signature is invalid"
        case .invalidIssuer: "the token does not have a valid issuer"
        case .invalidAudience: "the token does not have a valid audience"
        case .missingExpiration: "the token has no expiration"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet"
        case .issuedInFuture: "the token was issued in the future"
        case .insufficientScope: "the token does not have the required scope"
        }
    }

    /// The `www-authenticate` field value (RFC 6750 §3; insufficient_scope for the 403).
    /// Whole literals, so a refusal formats nothing.
    public var wwwAuthenticate: String {
        switch self {
        case .missingToken: #"Bearer scope="" error="invalid_token" error_description="the token is missing""#
        case .malformedToken: #"Bearer scope="" error="invalid_token" error_description="the token is malformed""#
        case .unsupportedAlgorithm:
            #"Bearer scope="" error="invalid_token" error_description="the token's signing algorithm is not supported""#
        case .missingKeyId: #"Bearer scope="" error="invalid_token" error_description="the token has no kid""#
        case .unknownKeyId:
            #"Bearer scope="" error="invalid_token" error_description="the token's kid matches no key in the JWKS""#
        case .keysUnavailable:
            #"Bearer scope="" error="invalid_token" error_description="the signing keys are not available""#
        case .algorithmMismatch:
            #"Bearer scope="" error="invalid_token" error_description="the token's algorithm does not match its key""#
        case .invalidSignature:
            #"Bearer scope="" error="invalid_token" error_description="the token signature is invalid""#
        case .invalidIssuer:
            #"Bearer scope="" error="invalid_token" error_description="the token does not have a valid issuer""#
        case .invalidAudience:
            #"Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience""#
        case .missingExpiration:
            #"Bearer scope="" error="invalid_token" error_description="the token has no expiration""#
        case .expired: #"Bearer scope="" error="invalid_token" error_description="the token has expired""#
        case .notYetValid: #"Bearer scope="" error="invalid_token" error_description="the token is not valid yet""#
        case .issuedInFuture:
            #"Bearer scope="" error="invalid_token" error_description="the token was issued in the future""#
        case .insufficientScope:
            #"Bearer scope="" error="insufficient_scope" error_description="the token does not have the required scope""#
        }
    }

    /// The JSON body API Gateway answers with.
    public var body: String { self == .insufficientScope ? #"{"message":"Forbidden"}"# : #"{"message":"Unauthorized"}"# }
}

/// The outcome of authorizing one request.
public enum JWTDecision: Sendable {
    case allow(VerifiedToken)
    case deny(JWTFailure)
}
