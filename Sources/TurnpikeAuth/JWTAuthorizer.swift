import Atomics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a JWT authorizer could not be built.
public enum JWTAuthorizerError: Error, Sendable, Equatable, CustomStringConvertible {
    case jwksFileUnreadable(name: String, path: String, reason: String)
    case jwksFileInvalid(name: String, path: String, JWKSError)

    public var description: String {
        switch self {
        case .jwksFileUnreadable(let name, let path, let reason):
            "authorizer \(name): cannot read JWKS file \(path): \(reason)"
        case .jwksFileInvalid(let name, let path, let error):
            "authorizer \(name): JWKS file \(path): \(error)"
        }
    }
}

private let nextAuthorizerId = ManagedAtomic<UInt64>(1)

/// One configured JWT authorizer (API Gateway HTTP API semantics), shared by every
/// worker thread. Verification reads an immutable key set through an atomic
/// reference; the only lock is the refresh thread's, taken by a worker at most once
/// per `unknownKidRefetchMinSeconds` to ask for a refetch.
public final class JWTAuthorizer: Sendable {
    public let spec: JWTAuthorizerSpec
    /// Tells this authorizer's entries apart in a worker's shared TokenCache.
    let cacheId: UInt64
    private let keys: ManagedKeySet
    private let refresher: JWKSRefresher?
    private let lastRefetchRequest = ManagedAtomic<Int64>(Int64.min / 2)
    /// Signature checks performed (tests use it to see cache hits).
    let signatureChecks = ManagedAtomic<Int>(0)

    /// Tokens longer than this are refused unread.
    static let maxTokenBytes = 16 * 1024

    /// A `.file` source is read now (a bad file throws). `.url` and `.discovery`
    /// start a background thread that fetches at once and then refreshes; until the
    /// first fetch succeeds, tokens are refused with `.keysUnavailable`.
    /// `log` receives one line per refresh outcome, from the refresh thread.
    public init(spec: JWTAuthorizerSpec, log: (@Sendable (String) -> Void)? = nil) throws(JWTAuthorizerError) {
        self.spec = spec
        cacheId = nextAuthorizerId.loadThenWrappingIncrement(ordering: .relaxed)
        switch spec.jwksSource {
        case .file(let path):
            let bytes: [UInt8]
            switch readFile(path) {
            case .success(let b): bytes = b
            case .failure(let error):
                throw .jwksFileUnreadable(name: spec.name, path: path, reason: error.reason)
            }
            switch KeySet.parse(bytes) {
            case .success(let set): keys = ManagedKeySet(set)
            case .failure(let error): throw .jwksFileInvalid(name: spec.name, path: path, error)
            }
            refresher = nil
        case .url, .discovery:
            keys = ManagedKeySet(.empty)
            let refresher = JWKSRefresher(spec: spec, keys: keys, log: log)
            self.refresher = refresher
            refresher.start()
        }
    }

    deinit { refresher?.stop() }

    /// Stops background refreshing (also done on deinit); keys stay as they are.
    public func shutdown() { refresher?.stop() }

    /// Fetches the keys now, on the calling thread (never a loop thread), e.g. to
    /// report a bad JWKS URL at startup. Returns how many keys are in use.
    @discardableResult
    public func refreshKeys() -> Result<Int, JWKSFetchError> {
        guard let refresher else { return .success(keys.load().keys.count) }
        return refresher.refreshNow()
    }

    /// How many signing keys are in use now.
    public var keyCount: Int { keys.load().keys.count }

    /// Checks a token: its form, algorithm, key, signature, then `iss`, `aud` /
    /// `client_id`, `exp`, `nbf`, `iat` — API Gateway's order. No caching here.
    public func verify(token: UnsafeRawBufferPointer, nowSeconds: Int64) -> Result<VerifiedToken, JWTFailure> {
        guard token.count > 0 else { return .failure(.missingToken) }
        guard token.count <= Self.maxTokenBytes else { return .failure(.malformedToken) }
        var firstDot = -1
        var secondDot = -1
        for i in 0..<token.count where token[i] == UInt8(ascii: ".") {
            if firstDot < 0 {
                firstDot = i
            } else if secondDot < 0 {
                secondDot = i
            } else {
                return .failure(.malformedToken)
            }
        }
        guard firstDot > 0, secondDot > firstDot + 1 else { return .failure(.malformedToken) }

        guard let headerBytes = Base64URL.decode(UnsafeRawBufferPointer(rebasing: token[..<firstDot])),
              let header = JSONParser.parse(headerBytes), case .object = header,
              let algName = header["alg"]?.stringValue else {
            return .failure(.malformedToken)
        }
        guard let algorithm = JWSAlgorithm(rawValue: algName), header["crit"] == nil else {
            return .failure(.unsupportedAlgorithm)
        }
        guard let kidValue = header["kid"] else { return .failure(.missingKeyId) }
        guard let kid = kidValue.stringValue else { return .failure(.malformedToken) }

        let keySet = keys.load()
        guard let jwk = keySet.keys[kid] else {
            requestRefetch(nowSeconds: nowSeconds)
            return .failure(keySet.keys.isEmpty ? .keysUnavailable : .unknownKeyId)
        }
        guard jwk.accepts(algorithm) else { return .failure(.algorithmMismatch) }
        guard let signature = Base64URL.decode(UnsafeRawBufferPointer(rebasing: token[(secondDot + 1)...])) else {
            return .failure(.malformedToken)
        }
        signatureChecks.wrappingIncrement(ordering: .relaxed)
        guard jwk.key.verify(algorithm, message: UnsafeRawBufferPointer(rebasing: token[..<secondDot]),
                             signature: signature) else {
            return .failure(.invalidSignature)
        }

        guard let payloadBytes = Base64URL.decode(UnsafeRawBufferPointer(rebasing: token[(firstDot + 1)..<secondDot])),
              let payload = JSONParser.parse(payloadBytes), case .object(let claims) = payload else {
            return .failure(.malformedToken)
        }
        return checkClaims(claims, nowSeconds: nowSeconds)
    }

    private func checkClaims(_ claims: [String: JSONValue], nowSeconds now: Int64) -> Result<VerifiedToken, JWTFailure> {
        guard claims["iss"] == .string(spec.issuer) else { return .failure(.invalidIssuer) }
        if !spec.audiences.isEmpty {
            // API Gateway reads client_id only when there is no aud (troubleshooting guide).
            let audience: [JSONValue]
            switch claims["aud"] ?? claims["client_id"] {
            case .string(let s)?: audience = [.string(s)]
            case .array(let list)?: audience = list
            default: audience = []
            }
            guard audience.contains(where: { $0.stringValue.map(spec.audiences.contains) ?? false }) else {
                return .failure(.invalidAudience)
            }
        }
        let skew = spec.clockSkewSeconds
        guard let exp = claims["exp"]?.secondsValue else { return .failure(.missingExpiration) }
        guard exp > now - skew else { return .failure(.expired) }
        if let nbfValue = claims["nbf"] {
            guard let nbf = nbfValue.secondsValue else { return .failure(.malformedToken) }
            guard nbf <= now + skew else { return .failure(.notYetValid) }
        }
        if let iatValue = claims["iat"] {
            guard let iat = iatValue.secondsValue else { return .failure(.malformedToken) }
            guard iat <= now + skew else { return .failure(.issuedInFuture) }
        }

        var scopes: [String] = []
        if let scope = claims["scope"]?.stringValue {
            scopes += scope.split(separator: " ").map(String.init)
        }
        switch claims["scp"] {
        case .string(let s)?: scopes += s.split(separator: " ").map(String.init)
        case .array(let list)?: scopes += list.compactMap(\.stringValue)
        default: break
        }
        var rendered: [String: String] = [:]
        rendered.reserveCapacity(claims.count)
        for (name, value) in claims { rendered[name] = value.claimText }
        return .success(VerifiedToken(claims: rendered, scopes: scopes, expiresAt: exp,
                                      sub: claims["sub"]?.stringValue))
    }

    /// Asks the refresh thread for a refetch, at most once per
    /// `unknownKidRefetchMinSeconds` however many workers see unknown kids.
    private func requestRefetch(nowSeconds: Int64) {
        guard let refresher else { return }
        let last = lastRefetchRequest.load(ordering: .relaxed)
        guard nowSeconds - last >= spec.unknownKidRefetchMinSeconds,
              lastRefetchRequest.compareExchange(expected: last, desired: nowSeconds, ordering: .relaxed).exchanged
        else { return }
        refresher.requestRefetch()
    }

    /// The authorize phase for one request: a cached verdict when this worker has
    /// seen the token before (until `min(exp, cache max age)`), else a full
    /// verification whose success is cached; then the route's scopes.
    public func authorize(token: UnsafeRawBufferPointer, requiredScopes: [String], nowSeconds: Int64,
                          cache: inout TokenCache) -> JWTDecision {
        guard token.count > 0 else { return .deny(.missingToken) }
        let hash = TokenCache.hash(token)
        let verified: VerifiedToken
        if let hit = cache.lookup(token, hash: hash, authorizerId: cacheId, now: nowSeconds) {
            verified = hit
        } else {
            switch verify(token: token, nowSeconds: nowSeconds) {
            case .failure(let failure): return .deny(failure)
            case .success(let fresh):
                verified = fresh
                let validUntil = min(fresh.expiresAt, nowSeconds + cache.maxAgeSeconds)
                if validUntil > nowSeconds {
                    cache.insert(token, hash: hash, authorizerId: cacheId, validUntil: validUntil,
                                 verified: fresh, now: nowSeconds)
                }
            }
        }
        return verified.hasAnyScope(of: requiredScopes) ? .allow(verified) : .deny(.insufficientScope)
    }
}

private struct FileReadError: Error {
    let reason: String
}

/// Reads a whole (small) file without Foundation.
private func readFile(_ path: String) -> Result<[UInt8], FileReadError> {
    guard let file = fopen(path, "rb") else { return .failure(FileReadError(reason: String(cString: strerror(errno)))) }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
        if n < chunk.count { break }
        if bytes.count > 4 * 1024 * 1024 { return .failure(FileReadError(reason: "larger than 4 MB")) }
    }
    if ferror(file) != 0 { return .failure(FileReadError(reason: "read error")) }
    return .success(bytes)
}
