import XCTest
@testable import TurnpikeAuth

/// Pins JWTAuthorizer.verify: every supported algorithm, every claim rule, and the
/// forgeries it must refuse.
final class JWTVerificationTests: XCTestCase {
    let authorizer = Fixture.fileAuthorizer()

    func testEverySupportedAlgorithmVerifies() {
        for alg in ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"] {
            let token = XCTAssertAccepted(authorizer.verify(Fixture.token("valid_" + alg)))
            XCTAssertEqual(token?.sub, "user-123", alg)
        }
    }

    func testClaimsAreRenderedAsTextForMapping() throws {
        let token = try XCTUnwrap(XCTAssertAccepted(authorizer.verify(Fixture.token("valid_ES256"))))
        XCTAssertEqual(token.claims["sub"], "user-123")
        XCTAssertEqual(token.claims["email"], "someone@test-only.example")
        XCTAssertEqual(token.claims["iss"], Fixture.issuer)
        XCTAssertEqual(token.claims["groups"], "[admin dev]")
        XCTAssertEqual(token.claims["level"], "42")
        XCTAssertEqual(token.claims["verified"], "true")
        XCTAssertEqual(token.claims["exp"], "4102444800")
        XCTAssertEqual(token.expiresAt, 4_102_444_800)
        XCTAssertEqual(token.scopes, ["pets:read", "pets:write"])
    }

    func testExpiredTokenIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("expired")), .expired)
    }

    func testExpiryWithinClockSkewIsAccepted() {
        XCTAssertAccepted(authorizer.verify(Fixture.token("expired_within_skew")))
        let strict = try! JWTAuthorizer(spec: {
            var s = Fixture.spec(.file(path: Fixture.path("test-only-jwks.json")))
            s.clockSkewSeconds = 0
            return s
        }())
        XCTAssertRefused(strict.verify(Fixture.token("expired_within_skew")), .expired)
    }

    func testNotBeforeInTheFutureIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("nbf_in_future")), .notYetValid)
        XCTAssertAccepted(authorizer.verify(Fixture.token("nbf_in_future"), now: Fixture.now + 3600))
    }

    func testIssuedInTheFutureIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("iat_in_future")), .issuedInFuture)
    }

    func testTokenWithoutExpirationIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("no_exp")), .missingExpiration)
    }

    func testWrongIssuerIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("wrong_iss")), .invalidIssuer)
    }

    func testWrongAudienceIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("wrong_aud")), .invalidAudience)
    }

    func testAudienceArrayNeedsOneConfiguredAudience() {
        XCTAssertAccepted(authorizer.verify(Fixture.token("aud_array_one_matches")))
    }

    func testClientIdIsTheAudienceWhenThereIsNoAud() {
        XCTAssertAccepted(authorizer.verify(Fixture.token("client_id_no_aud")))
    }

    func testAudWinsOverClientIdWhenBothArePresent() {
        XCTAssertRefused(authorizer.verify(Fixture.token("aud_wrong_client_id_right")), .invalidAudience)
    }

    func testMissingKidIsRefusedEvenWithASingleKeyJWKS() {
        // API Gateway: "kid – The token must have a header claim that matches the key
        // in the jwks_uri that signed the token."
        let single = Fixture.fileAuthorizer("test-only-jwks-single-key.json")
        XCTAssertRefused(single.verify(Fixture.token("missing_kid")), .missingKeyId)
        XCTAssertAccepted(single.verify(Fixture.token("valid_RS256")))
    }

    func testUnknownKidIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("unknown_kid")), .unknownKeyId)
    }

    func testTamperedPayloadIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("tampered_payload")), .invalidSignature)
    }

    func testTamperedSignatureIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("tampered_signature")), .invalidSignature)
    }

    func testAlgNoneIsRefusedWithoutAnySignatureCheck() {
        XCTAssertRefused(authorizer.verify(Fixture.token("alg_none")), .unsupportedAlgorithm)
        XCTAssertEqual(authorizer.checks, 0)
    }

    func testHS256SignedWithTheRSAPublicKeyIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("hs256_with_rsa_public_key")), .unsupportedAlgorithm)
        XCTAssertEqual(authorizer.checks, 0)
    }

    func testAlgorithmOfAnotherKeyFamilyIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("es256_naming_rsa_kid")), .algorithmMismatch)
        XCTAssertRefused(authorizer.verify(Fixture.token("rs256_naming_ec_kid")), .algorithmMismatch)
    }

    func testAlgorithmOtherThanTheJWKsOwnAlgIsRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("ps256_with_rs256_only_key")), .algorithmMismatch)
    }

    func testCriticalHeaderExtensionsAreRefused() {
        XCTAssertRefused(authorizer.verify(Fixture.token("crit_header")), .unsupportedAlgorithm)
    }

    func testMalformedTokensAreRefused() {
        for name in ["malformed_base64", "malformed_json", "two_parts", "four_parts"] {
            XCTAssertRefused(authorizer.verify(Fixture.token(name)), .malformedToken)
        }
        // The signature covers the payload bytes, so a payload that is not JSON fails there first.
        XCTAssertRefused(authorizer.verify(Fixture.token("payload_not_json")), .invalidSignature)
        for garbage in ["", ".", "..", "a.b.c", "e30.e30.", String(repeating: "A", count: 20_000)] {
            if case .success = authorizer.verify(garbage) { XCTFail("accepted \(garbage.prefix(20))") }
        }
    }

    func testSymmetricAndEncryptionKeysInTheJWKSAreSkipped() {
        let set = authorizer.keyCount
        XCTAssertEqual(set, 5)
    }

    func testBadJWKSFileThrowsADescriptiveError() {
        XCTAssertThrowsError(try JWTAuthorizer(spec: Fixture.spec(.file(path: "/nonexistent/jwks.json")))) { error in
            XCTAssertEqual("\(error)", "authorizer test: cannot read JWKS file /nonexistent/jwks.json: No such file or directory")
        }
        XCTAssertThrowsError(try JWTAuthorizer(spec: Fixture.spec(.file(path: Fixture.path("make_fixtures.py"))))) { error in
            XCTAssertEqual(error as? JWTAuthorizerError,
                           .jwksFileInvalid(name: "test", path: Fixture.path("make_fixtures.py"), .notJSON))
        }
    }
}
