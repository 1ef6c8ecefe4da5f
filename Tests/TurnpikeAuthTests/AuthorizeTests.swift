import XCTest
@testable import TurnpikeAuth

/// Pins the authorize phase: scopes, the exact refusal responses, identity source
/// parsing and the per-worker token cache.
final class AuthorizeTests: XCTestCase {
    let authorizer = Fixture.fileAuthorizer()
    var cache = TokenCache(capacity: 64)

    private func failure(_ decision: JWTDecision) -> JWTFailure? {
        if case .deny(let f) = decision { return f }
        return nil
    }

    private func allowed(_ decision: JWTDecision) -> VerifiedToken? {
        if case .allow(let t) = decision { return t }
        return nil
    }

    func testScopeStringSatisfiesARouteScope() {
        XCTAssertNotNil(allowed(authorizer.authorize(Fixture.token("valid_RS256"), scopes: ["pets:write"], cache: &cache)))
    }

    func testScpArraySatisfiesARouteScope() {
        let token = allowed(authorizer.authorize(Fixture.token("scp_array"), scopes: ["admin", "orders:read"], cache: &cache))
        XCTAssertEqual(token?.scopes, ["orders:read", "orders:write"])
    }

    func testMissingScopeIsForbidden() {
        let f = failure(authorizer.authorize(Fixture.token("valid_RS256"), scopes: ["orders:read"], cache: &cache))
        XCTAssertEqual(f, .insufficientScope)
        XCTAssertEqual(f?.status, 403)
        XCTAssertEqual(f?.body, #"{"message":"Forbidden"}"#)
        XCTAssertEqual(failure(authorizer.authorize(Fixture.token("no_scopes"), scopes: ["pets:read"], cache: &cache)),
                       .insufficientScope)
    }

    func testRouteWithoutScopesAcceptsATokenWithoutScopes() {
        XCTAssertNotNil(allowed(authorizer.authorize(Fixture.token("no_scopes"), cache: &cache)))
    }

    func testRefusalsAreUnauthorizedWithAnAWSShapedChallenge() {
        let f = failure(authorizer.authorize(Fixture.token("wrong_aud"), cache: &cache))
        XCTAssertEqual(f?.status, 401)
        XCTAssertEqual(f?.message, "Unauthorized")
        XCTAssertEqual(f?.body, #"{"message":"Unauthorized"}"#)
        XCTAssertEqual(f?.wwwAuthenticate,
                       #"Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience""#)
        XCTAssertEqual(failure(authorizer.authorize(Fixture.token("expired"), cache: &cache))?.wwwAuthenticate,
                       #"Bearer scope="" error="invalid_token" error_description="the token has expired""#)
        XCTAssertEqual(failure(authorizer.authorize(Fixture.token("expired"), cache: &cache))?.logDescription,
                       "the token has expired")
        XCTAssertEqual(failure(authorizer.authorize("", cache: &cache)), .missingToken)
    }

    func testEveryFailureHasAChallengeNamingItsDescription() {
        let all: [JWTFailure] = [.missingToken, .malformedToken, .unsupportedAlgorithm, .missingKeyId, .unknownKeyId,
                                 .keysUnavailable, .algorithmMismatch, .invalidSignature, .invalidIssuer,
                                 .invalidAudience, .missingExpiration, .expired, .notYetValid, .issuedInFuture,
                                 .insufficientScope]
        for f in all {
            XCTAssertTrue(f.wwwAuthenticate.hasSuffix("error_description=\"\(f.logDescription)\""), "\(f)")
            XCTAssertEqual(f.status, f == .insufficientScope ? 403 : 401)
        }
    }

    private func extract(_ value: String) -> String? {
        Array(value.utf8).withUnsafeBytes { IdentityToken.extract(headerValue: $0).map { String(decoding: $0, as: UTF8.self) } }
    }

    func testBearerPrefixIsOptionalAndCaseInsensitive() {
        XCTAssertEqual(extract("Bearer abc.def.ghi"), "abc.def.ghi")
        XCTAssertEqual(extract("bearer abc.def.ghi"), "abc.def.ghi")
        XCTAssertEqual(extract("BEARER   abc.def.ghi"), "abc.def.ghi")
        XCTAssertEqual(extract("abc.def.ghi"), "abc.def.ghi")
        XCTAssertEqual(extract("Bearerabc"), "Bearerabc")
        XCTAssertNil(extract(""))
        let token = extract("Bearer " + Fixture.token("valid_RS256"))!
        XCTAssertNotNil(allowed(authorizer.authorize(token, cache: &cache)))
    }

    func testCacheHitReturnsTheSameTokenWithoutAnotherSignatureCheck() {
        let token = Fixture.token("valid_RS256")
        let first = allowed(authorizer.authorize(token, cache: &cache))
        XCTAssertEqual(authorizer.checks, 1)
        let second = allowed(authorizer.authorize(token, cache: &cache))
        XCTAssertEqual(authorizer.checks, 1)
        XCTAssertTrue(first === second)
        // Scopes are still checked on a hit.
        XCTAssertEqual(failure(authorizer.authorize(token, scopes: ["nope"], cache: &cache)), .insufficientScope)
        XCTAssertEqual(authorizer.checks, 1)
    }

    func testCachedTokenExpiresAtExp() {
        let token = Fixture.token("expires_soon")  // exp = now + 100
        XCTAssertNotNil(allowed(authorizer.authorize(token, cache: &cache)))
        XCTAssertNotNil(allowed(authorizer.authorize(token, now: Fixture.now + 99, cache: &cache)))
        XCTAssertEqual(authorizer.checks, 1)
        // At exp the entry is gone; the token is re-verified (and passes only within skew).
        XCTAssertNotNil(allowed(authorizer.authorize(token, now: Fixture.now + 100, cache: &cache)))
        XCTAssertEqual(authorizer.checks, 2)
        XCTAssertEqual(failure(authorizer.authorize(token, now: Fixture.now + 160, cache: &cache)), .expired)
    }

    func testCachedTokenIsReverifiedAfterTheCacheMaxAge() {
        var short = TokenCache(capacity: 16, maxAgeSeconds: 10)
        let token = Fixture.token("valid_ES256")
        _ = authorizer.authorize(token, cache: &short)
        _ = authorizer.authorize(token, now: Fixture.now + 9, cache: &short)
        XCTAssertEqual(authorizer.checks, 1)
        _ = authorizer.authorize(token, now: Fixture.now + 10, cache: &short)
        XCTAssertEqual(authorizer.checks, 2)
    }

    func testRefusedTokensAreNotCached() {
        _ = authorizer.authorize(Fixture.token("tampered_signature"), cache: &cache)
        _ = authorizer.authorize(Fixture.token("tampered_signature"), cache: &cache)
        XCTAssertEqual(authorizer.checks, 2)
    }

    func testCacheEntriesAreNotSharedBetweenAuthorizers() {
        let other = try! JWTAuthorizer(spec: Fixture.spec(.file(path: Fixture.path("test-only-jwks.json")),
                                                          audiences: ["someone-else"]))
        let token = Fixture.token("valid_RS256")
        XCTAssertNotNil(allowed(authorizer.authorize(token, cache: &cache)))
        XCTAssertEqual(failure(other.authorize(token, cache: &cache)), .invalidAudience)
    }

    func testCacheStaysBoundedAndKeepsServing() {
        var tiny = TokenCache(capacity: 4)
        XCTAssertEqual(tiny.capacity, 4)
        let names = ["valid_RS256", "valid_RS384", "valid_RS512", "valid_PS256", "valid_ES256", "valid_ES384", "valid_EdDSA"]
        for _ in 0..<3 {
            for name in names { XCTAssertNotNil(allowed(authorizer.authorize(Fixture.token(name), cache: &tiny))) }
        }
        XCTAssertGreaterThan(authorizer.checks, names.count)
    }
}
