import Atomics
import CTurnpikeShim

/// One usable signing key of a JWKS.
struct JSONWebKey: Sendable {
    let kid: String
    let key: PublicKey
    /// The JWK's own `alg`, when it names one: tokens must then use exactly it.
    let algorithm: JWSAlgorithm?

    func accepts(_ algorithm: JWSAlgorithm) -> Bool {
        algorithm.keyKind == key.kind && (self.algorithm == nil || self.algorithm == algorithm)
    }
}

/// Why a JWKS document gave no usable keys.
public enum JWKSError: Error, Sendable, Equatable, CustomStringConvertible {
    case notJSON
    case noKeysArray
    case noUsableKeys(skipped: Int)

    public var description: String {
        switch self {
        case .notJSON: "the JWKS is not valid JSON"
        case .noKeysArray: "the JWKS has no \"keys\" array"
        case .noUsableKeys(let skipped):
            "the JWKS has no usable signing key (\(skipped) skipped: each needs a kid, and kty RSA, EC P-256/P-384 or OKP Ed25519)"
        }
    }
}

/// An immutable set of verification keys by `kid`. A refresh builds a new set and
/// swaps it in whole, so a reader sees either the old keys or the new ones.
final class KeySet: AtomicReference, Sendable {
    let keys: [String: JSONWebKey]

    init(keys: [String: JSONWebKey]) {
        self.keys = keys
    }

    static let empty = KeySet(keys: [:])

    /// Parses a JWKS (RFC 7517 §5). Keys this gateway cannot use — symmetric (`oct`),
    /// encryption keys (`use` other than `sig`, `key_ops` without `verify`), other
    /// curves, keys without `kid`, invalid parameters — are skipped; the first of two
    /// keys with one `kid` wins.
    static func parse(_ document: [UInt8]) -> Result<KeySet, JWKSError> {
        guard let json = JSONParser.parse(document) else { return .failure(.notJSON) }
        guard case .array(let entries)? = json["keys"] else { return .failure(.noKeysArray) }
        var keys: [String: JSONWebKey] = [:]
        var skipped = 0
        for entry in entries {
            guard let jwk = parseKey(entry), keys[jwk.kid] == nil else {
                skipped += 1
                continue
            }
            keys[jwk.kid] = jwk
        }
        return keys.isEmpty ? .failure(.noUsableKeys(skipped: skipped)) : .success(KeySet(keys: keys))
    }

    private static func bytes(_ entry: JSONValue, _ name: String) -> [UInt8]? {
        entry[name]?.stringValue.flatMap(Base64URL.decode)
    }

    private static func parseKey(_ entry: JSONValue) -> JSONWebKey? {
        guard let kid = entry["kid"]?.stringValue, let kty = entry["kty"]?.stringValue else { return nil }
        if let use = entry["use"], use != .string("sig") { return nil }
        if let ops = entry["key_ops"] {
            guard case .array(let list) = ops, list.contains(.string("verify")) else { return nil }
        }
        var algorithm: JWSAlgorithm?
        if let alg = entry["alg"] {
            guard let name = alg.stringValue, let known = JWSAlgorithm(rawValue: name) else { return nil }
            algorithm = known
        }
        let key: PublicKey?
        switch kty {
        case "RSA":
            guard let n = bytes(entry, "n"), let e = bytes(entry, "e") else { return nil }
            key = PublicKey.rsa(n: n, e: e)
        case "EC":
            guard let x = bytes(entry, "x"), let y = bytes(entry, "y") else { return nil }
            switch entry["crv"]?.stringValue {
            case "P-256": key = PublicKey.ec(kind: TP_KEY_EC_P256, x: x, y: y)
            case "P-384": key = PublicKey.ec(kind: TP_KEY_EC_P384, x: x, y: y)
            default: return nil
            }
        case "OKP":
            guard entry["crv"]?.stringValue == "Ed25519", let x = bytes(entry, "x") else { return nil }
            key = PublicKey.ed25519(x: x)
        default:
            return nil
        }
        guard let key else { return nil }
        let jwk = JSONWebKey(kid: kid, key: key, algorithm: algorithm)
        if let algorithm, !jwk.accepts(algorithm) { return nil }
        return jwk
    }
}
