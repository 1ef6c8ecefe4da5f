import XCTest
@testable import TurnpikeAuth

/// Pins the two-step use of a Lambda authorizer: refusals before invoking, the event
/// handed to the caller, the answer's decision, and what the shared cache saves.
final class LambdaAuthorizerFlowTests: XCTestCase {
    private typealias Field = AuthorizerRequestValues.Field
    private let cache = AuthorizerResultCache()

    private func request(method: String = "GET", path: String = "/pets/7", token: String? = "allow-me") -> AuthorizerRequestValues {
        var request = AuthorizerRequestValues(region: "us-east-1", accountId: "123456789012", apiId: "abcdef123",
                                              stage: "prod", httpMethod: method, path: path, resource: "/pets/{petId}")
        if let token { request.headers = [Field("Authorization", token)] }
        return request
    }

    private func invocation(_ step: LambdaAuthorizer.Step, file: StaticString = #filePath,
                            line: UInt = #line) -> LambdaAuthorizer.Invocation? {
        if case .invoke(let invocation) = step { return invocation }
        XCTFail("decided without invoking: \(step)", file: file, line: line)
        return nil
    }

    private func decided(_ step: LambdaAuthorizer.Step) -> AuthorizerDecision? {
        if case .decided(let decision, _) = step { return decision }
        return nil
    }

    private let getPetsPolicy = Array(#"{"principalId":"u1","policyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/pets/*"}]},"context":{"tier":"gold"}}"#.utf8)

    private func tokenAuthorizer(ttl: Int = 300) throws -> LambdaAuthorizer {
        try LambdaAuthorizer(id: 1, eventFormat: .restToken, identitySource: ["method.request.header.Authorization"],
                             validationExpression: "allow-.*", ttlSeconds: ttl)
    }

    func testRestTokenInvokesWithTheTokenEventAndAllows() throws {
        let authorizer = try tokenAuthorizer()
        let call = try XCTUnwrap(invocation(authorizer.begin(request(), cache: cache, nowSeconds: 0)))
        XCTAssertEqual(String(decoding: call.event, as: UTF8.self),
                       #"{"authorizationToken":"allow-me","methodArn":"arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/pets/7","type":"TOKEN"}"#)
        let (decision, failure) = authorizer.finish(call, result: .payload(getPetsPolicy), cache: cache, nowSeconds: 0)
        XCTAssertNil(failure)
        XCTAssertEqual(decision, .allow(AuthorizedPrincipal(principalId: "u1", context: ["tier": .string("gold")],
                                                            usageIdentifierKey: nil)))
    }

    func testMissingOrInvalidTokenIsRefusedWithoutInvoking() throws {
        let authorizer = try tokenAuthorizer()
        guard case .decided(let missing, let why) = authorizer.begin(request(token: nil), cache: cache, nowSeconds: 0) else {
            return XCTFail("invoked")
        }
        XCTAssertEqual(missing, .unauthorized)
        XCTAssertEqual(why, .identitySourceMissing)
        guard case .decided(let invalid, let reason) = authorizer.begin(request(token: "deny-me"), cache: cache,
                                                                         nowSeconds: 0) else { return XCTFail("invoked") }
        XCTAssertEqual(invalid.status, 401)
        XCTAssertEqual(reason, .tokenFailedValidation)
    }

    func testCachedPolicyAnswersOtherMethodsWithoutInvokingUntilTheTTLEnds() throws {
        let authorizer = try tokenAuthorizer(ttl: 60)
        let call = try XCTUnwrap(invocation(authorizer.begin(request(), cache: cache, nowSeconds: 100)))
        _ = authorizer.finish(call, result: .payload(getPetsPolicy), cache: cache, nowSeconds: 100)
        XCTAssertEqual(decided(authorizer.begin(request(path: "/pets/8"), cache: cache, nowSeconds: 159))?.status, 200)
        XCTAssertEqual(decided(authorizer.begin(request(method: "DELETE"), cache: cache, nowSeconds: 159)),
                       .forbidden(.rest, explicitDeny: false))
        XCTAssertNotNil(invocation(authorizer.begin(request(), cache: cache, nowSeconds: 160)))
        XCTAssertNotNil(invocation(authorizer.begin(request(token: "allow-other"), cache: cache, nowSeconds: 100)))
    }

    func testTTLZeroInvokesEveryTime() throws {
        let authorizer = try tokenAuthorizer(ttl: 0)
        let call = try XCTUnwrap(invocation(authorizer.begin(request(), cache: cache, nowSeconds: 0)))
        XCTAssertNil(call.cacheKey)
        _ = authorizer.finish(call, result: .payload(getPetsPolicy), cache: cache, nowSeconds: 0)
        XCTAssertNotNil(invocation(authorizer.begin(request(), cache: cache, nowSeconds: 0)))
        XCTAssertEqual(cache.count, 0)
    }

    func testFailuresAreNotCached() throws {
        let authorizer = try tokenAuthorizer()
        for result in [LambdaAuthorizer.InvocationResult.functionError(message: "Unauthorized"),
                       .functionError(message: "boom"), .invocationFailed, .payload(Array("{}".utf8))] {
            let call = try XCTUnwrap(invocation(authorizer.begin(request(), cache: cache, nowSeconds: 0)))
            let (decision, failure) = authorizer.finish(call, result: result, cache: cache, nowSeconds: 0)
            XCTAssertNotNil(failure)
            XCTAssertTrue([401, 500].contains(decision.status))
        }
        XCTAssertEqual(cache.count, 0)
    }

    func testHttpSimpleResponsesWithPayloadV2() throws {
        let authorizer = try LambdaAuthorizer(id: 2, eventFormat: .httpPayloadV2,
                                              identitySource: ["$request.header.Authorization"],
                                              enableSimpleResponses: true)
        XCTAssertEqual(authorizer.responseFormat, .httpSimple)
        let call = try XCTUnwrap(invocation(authorizer.begin(request(), cache: cache, nowSeconds: 0)))
        XCTAssertEqual(JSONValue(json: call.event)?["identitySource"], .array([.string("allow-me")]))
        let (decision, _) = authorizer.finish(call, result: .payload(Array(#"{"isAuthorized":false}"#.utf8)),
                                              cache: cache, nowSeconds: 0)
        XCTAssertEqual(decision.body, Array(#"{"message":"Forbidden"}"#.utf8))
        XCTAssertEqual(decided(authorizer.begin(request(), cache: cache, nowSeconds: 1))?.status, 403,
                       "a refusal the function answered is cached like an allow")
    }

    func testConfigurationErrors() {
        func error(_ make: () throws -> LambdaAuthorizer) -> LambdaAuthorizer.ConfigError? {
            do {
                _ = try make()
                return nil
            } catch {
                return error as? LambdaAuthorizer.ConfigError
            }
        }
        XCTAssertEqual(error { try LambdaAuthorizer(id: 1, eventFormat: .restToken,
                                                    identitySource: ["method.request.querystring.token"]) },
                       .tokenSourceNotOneHeader)
        XCTAssertEqual(error { try LambdaAuthorizer(id: 1, eventFormat: .restRequest,
                                                    identitySource: ["method.request.header.A"],
                                                    validationExpression: ".*") },
                       .validationExpressionWithoutToken)
        XCTAssertEqual(error { try LambdaAuthorizer(id: 1, eventFormat: .httpPayloadV1,
                                                    identitySource: ["$request.header.A"], enableSimpleResponses: true) },
                       .simpleResponsesNeedPayloadV2)
        XCTAssertEqual(error { try LambdaAuthorizer(id: 1, eventFormat: .httpPayloadV2, identitySource: []) },
                       .cachingWithoutIdentitySource)
        XCTAssertEqual(error { try LambdaAuthorizer(id: 1, eventFormat: .restRequest,
                                                    identitySource: ["method.request.header.A"], ttlSeconds: 3601) },
                       .ttlOutOfRange(3601))
        XCTAssertEqual(error { try LambdaAuthorizer(id: 1, eventFormat: .httpPayloadV2, identitySource: ["$body.x"]) },
                       .identitySource(.unknownExpression("$body.x")))
        XCTAssertNil(error { try LambdaAuthorizer(id: 1, eventFormat: .httpPayloadV2, identitySource: [], ttlSeconds: 0) })
    }
}
