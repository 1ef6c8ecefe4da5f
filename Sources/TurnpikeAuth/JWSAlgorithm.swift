import CTurnpikeShim

/// The JWS algorithms a JWT authorizer accepts (RFC 7518 §3, RFC 8037). HMAC
/// algorithms and `none` are not here: a gateway verifying third-party tokens holds
/// only public keys, and an HMAC "verified" with a public key is the classic
/// algorithm-confusion forgery.
enum JWSAlgorithm: String, Sendable, CaseIterable {
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case es256 = "ES256"
    case es384 = "ES384"
    case edDSA = "EdDSA"

    /// The only kind of key this algorithm may be checked with.
    var keyKind: tp_key_kind {
        switch self {
        case .rs256, .rs384, .rs512, .ps256: TP_KEY_RSA
        case .es256: TP_KEY_EC_P256
        case .es384: TP_KEY_EC_P384
        case .edDSA: TP_KEY_ED25519
        }
    }

    var shimValue: tp_sig_alg {
        switch self {
        case .rs256: TP_ALG_RS256
        case .rs384: TP_ALG_RS384
        case .rs512: TP_ALG_RS512
        case .ps256: TP_ALG_PS256
        case .es256: TP_ALG_ES256
        case .es384: TP_ALG_ES384
        case .edDSA: TP_ALG_EDDSA
        }
    }
}
