import XCTest
@testable import TurnpikeAuth

/// Pins identity source extraction (missing → 401 before any invocation, TOKEN
/// validation) and the shared result cache's keys and TTLs on an injected clock.
final class AuthorizerIdentityAndCacheTests: XCTestCase {
    private typealias Field = AuthorizerRequestValues.Field

    private func request() -> AuthorizerRequestValues {
        var request = AuthorizerRequestValues(region: "us-east-1", accountId: "123456789012", apiId: "abcdef123",
                                              stage: "prod", httpMethod: "GET", path: "/pets/7", resource: "/pets/{petId}")
        request.routeKey = "GET /pets/{petId}"
        request.headers = [Field("Authorization", "Bearer t1"), Field("X-Tenant", "a"), Field("x-tenant", "b")]
        request.queryParameters = [Field("user", "u1"), Field("user", "u2")]
        request.stageVariables = ["tier": "gold"]
        return request
    }

    private func values(_ expressions: [String], kind: AuthorizerAPIKind = .http,
                        validation: String? = nil, in request: AuthorizerRequestValues? = nil) throws -> [String] {
        try AuthorizerIdentitySource(expressions: expressions, validationExpression: validation)
            .values(in: request ?? self.request(), kind: kind)
    }

    func testHttpExpressionsReadHeadersCaseInsensitivelyQueryContextAndStageVariables() throws {
        XCTAssertEqual(try values(["$request.header.authorization", "$request.querystring.user", "$context.routeKey",
                                   "$stageVariables.tier"]),
                       ["Bearer t1", "u1,u2", "GET /pets/{petId}", "gold"])
    }

    func testRepeatedHeadersJoinForHttpApisAndTakeTheLastForRest() throws {
        XCTAssertEqual(try values(["$request.header.X-Tenant"]), ["a,b"])
        XCTAssertEqual(try values(["method.request.header.X-Tenant"], kind: .rest), ["b"])
        XCTAssertEqual(try values(["method.request.querystring.user"], kind: .rest), ["u2"])
    }

    func testRestCommaSeparatedIdentitySource() throws {
        let source = try AuthorizerIdentitySource(
            commaSeparated: "method.request.header.Authorization, method.request.querystring.user,stageVariables.tier,context.stage")
        XCTAssertEqual(try source.values(in: request(), kind: .rest), ["Bearer t1", "u2", "gold", "prod"])
    }

    func testQueryStringNamesAreCaseSensitive() {
        XCTAssertThrowsError(try values(["$request.querystring.User"])) {
            XCTAssertEqual($0 as? LambdaAuthorizerFailure, .identitySourceMissing)
        }
    }

    func testMissingOrEmptyIdentitySourceIsUnauthorizedWithoutInvoking() {
        var empty = request()
        empty.headers.append(Field("X-Empty", ""))
        for expression in ["$request.header.X-Missing", "$request.header.X-Empty", "$stageVariables.none",
                           "$context.nonexistent"] {
            XCTAssertThrowsError(try values(["$request.header.Authorization", expression], in: empty), expression) {
                let failure = $0 as? LambdaAuthorizerFailure
                XCTAssertEqual(failure, .identitySourceMissing)
                XCTAssertEqual(failure?.decision(for: .http).body, Array(#"{"message":"Unauthorized"}"#.utf8))
            }
        }
    }

    func testTokenValidationExpressionMustMatchTheWholeToken() throws {
        let pattern = "Bearer [A-Za-z0-9]+"
        XCTAssertEqual(try values(["method.request.header.Authorization"], kind: .rest, validation: pattern), ["Bearer t1"])
        var bad = request()
        bad.headers = [Field("Authorization", "Bearer t1; DROP")]
        XCTAssertThrowsError(try values(["method.request.header.Authorization"], kind: .rest, validation: pattern, in: bad)) {
            let failure = $0 as? LambdaAuthorizerFailure
            XCTAssertEqual(failure, .tokenFailedValidation)
            XCTAssertEqual(failure?.status, 401)
        }
    }

    func testNoIdentitySourcesGiveNoValues() throws {
        XCTAssertEqual(try AuthorizerIdentitySource(expressions: []).values(in: request(), kind: .http), [])
    }

    func testUnknownExpressionsAndBadValidationRegexAreRefused() {
        for bad in ["$request.body.token", "header.Authorization", "$request.header.", "method.request.path.id"] {
            XCTAssertThrowsError(try AuthorizerIdentitySource(expressions: [bad]), bad) {
                XCTAssertEqual($0 as? AuthorizerIdentitySource.ConfigError, .unknownExpression(bad))
            }
        }
        XCTAssertThrowsError(try AuthorizerIdentitySource(expressions: ["method.request.header.Authorization"],
                                                          validationExpression: "([unclosed")) {
            XCTAssertEqual($0 as? AuthorizerIdentitySource.ConfigError, .invalidValidationExpression("([unclosed"))
        }
    }

    // MARK: cache

    private let allowAll = LambdaAuthorizerResponse.simple(isAuthorized: true, context: [:])
    private let getOnly = LambdaAuthorizerResponse.policy(
        principalId: "user",
        policy: IAMPolicy(statements: [.init(effect: .allow, actions: ["execute-api:Invoke"],
                                             resources: ["arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/*"])]),
        context: [:], usageIdentifierKey: nil)

    func testCachedEntryLivesExactlyItsTTL() {
        let cache = AuthorizerResultCache()
        let key = AuthorizerCacheKey(authorizerId: 1, identityValues: ["Bearer t1"])
        cache.insert(key, response: allowAll, ttlSeconds: 300, nowSeconds: 1000)
        XCTAssertEqual(cache.lookup(key, nowSeconds: 1000), allowAll)
        XCTAssertEqual(cache.lookup(key, nowSeconds: 1299), allowAll)
        XCTAssertNil(cache.lookup(key, nowSeconds: 1300))
        XCTAssertEqual(cache.count, 0)
    }

    func testZeroTTLDisablesCachingAndTTLIsCappedAtAnHour() {
        let cache = AuthorizerResultCache()
        let key = AuthorizerCacheKey(authorizerId: 1, identityValues: ["t"])
        cache.insert(key, response: allowAll, ttlSeconds: 0, nowSeconds: 0)
        XCTAssertNil(cache.lookup(key, nowSeconds: 0))
        cache.insert(key, response: allowAll, ttlSeconds: 86_400, nowSeconds: 0)
        XCTAssertNotNil(cache.lookup(key, nowSeconds: 3599))
        XCTAssertNil(cache.lookup(key, nowSeconds: 3600))
        XCTAssertEqual(AuthorizerResultCache.defaultTTLSeconds, 300)
    }

    func testKeysSeparateAuthorizersAndValueBoundaries() {
        let cache = AuthorizerResultCache()
        cache.insert(AuthorizerCacheKey(authorizerId: 1, identityValues: ["a,b"]), response: allowAll, ttlSeconds: 60,
                     nowSeconds: 0)
        XCTAssertNotNil(cache.lookup(AuthorizerCacheKey(authorizerId: 1, identityValues: ["a,b"]), nowSeconds: 1))
        XCTAssertNil(cache.lookup(AuthorizerCacheKey(authorizerId: 2, identityValues: ["a,b"]), nowSeconds: 1))
        XCTAssertNil(cache.lookup(AuthorizerCacheKey(authorizerId: 1, identityValues: ["a", "b"]), nowSeconds: 1))
        XCTAssertNil(cache.lookup(AuthorizerCacheKey(authorizerId: 1, identityValues: ["a,", "b"]), nowSeconds: 1))
        XCTAssertNotEqual(AuthorizerCacheKey(authorizerId: 1, identityValues: ["", "x"]),
                          AuthorizerCacheKey(authorizerId: 1, identityValues: ["x", ""]))
    }

    // AWS knowledge center: a cached policy naming one path refuses other paths within the TTL.
    func testCachedPolicyIsEvaluatedAgainstEachNewMethodArn() throws {
        let cache = AuthorizerResultCache()
        let key = AuthorizerCacheKey(authorizerId: 1, identityValues: ["Bearer t1"])
        cache.insert(key, response: getOnly, ttlSeconds: 300, nowSeconds: 0)
        let cached = try XCTUnwrap(cache.lookup(key, nowSeconds: 10))
        let get = MethodArn(region: "us-east-1", accountId: "123456789012", apiId: "abcdef123", stage: "prod",
                            method: "GET", path: "/pets/8")
        let delete = MethodArn(region: "us-east-1", accountId: "123456789012", apiId: "abcdef123", stage: "prod",
                               method: "DELETE", path: "/pets/8")
        XCTAssertEqual(cached.decision(methodArn: get, kind: .rest).status, 200)
        XCTAssertEqual(cached.decision(methodArn: delete, kind: .rest),
                       .forbidden(.rest, explicitDeny: false))
    }

    func testBoundedSizeEvictsExpiredThenSoonestExpiring() {
        let cache = AuthorizerResultCache(capacity: 2, shards: 1)
        let a = AuthorizerCacheKey(authorizerId: 1, identityValues: ["a"])
        let b = AuthorizerCacheKey(authorizerId: 1, identityValues: ["b"])
        let c = AuthorizerCacheKey(authorizerId: 1, identityValues: ["c"])
        let d = AuthorizerCacheKey(authorizerId: 1, identityValues: ["d"])
        cache.insert(a, response: allowAll, ttlSeconds: 10, nowSeconds: 0)
        cache.insert(b, response: allowAll, ttlSeconds: 100, nowSeconds: 0)
        cache.insert(c, response: allowAll, ttlSeconds: 100, nowSeconds: 20)
        XCTAssertEqual(cache.count, 2)
        XCTAssertNil(cache.lookup(a, nowSeconds: 20))
        cache.insert(d, response: allowAll, ttlSeconds: 100, nowSeconds: 30)
        XCTAssertEqual(cache.count, 2)
        XCTAssertNil(cache.lookup(b, nowSeconds: 30), "b expires first, so it goes")
        XCTAssertNotNil(cache.lookup(c, nowSeconds: 30))
        XCTAssertNotNil(cache.lookup(d, nowSeconds: 30))
        cache.insert(d, response: getOnly, ttlSeconds: 100, nowSeconds: 30)
        XCTAssertEqual(cache.lookup(d, nowSeconds: 30), getOnly, "replacing a key evicts nothing")
        XCTAssertNotNil(cache.lookup(c, nowSeconds: 30))
        cache.removeAll()
        XCTAssertEqual(cache.count, 0)
    }

    func testConcurrentWorkersShareOneCache() {
        let cache = AuthorizerResultCache(capacity: 1000)
        let response = allowAll
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for i in 0..<200 {
                let key = AuthorizerCacheKey(authorizerId: 1, identityValues: ["token-\(i % 50)"])
                if cache.lookup(key, nowSeconds: 0) == nil {
                    cache.insert(key, response: response, ttlSeconds: 60, nowSeconds: 0)
                }
            }
        }
        XCTAssertEqual(cache.count, 50)
    }
}
