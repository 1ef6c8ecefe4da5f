import XCTest
@testable import TurnpikeAuth

/// Pins how a Lambda authorizer's answer becomes the client's response: allowed with its
/// principal and context, or refused with the exact status, body and error type API
/// Gateway gives, for every malformed answer too.
final class LambdaAuthorizerResponseTests: XCTestCase {
    private let arn = "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/request"

    private func parse(_ json: String, _ format: LambdaAuthorizerResponse.Format) throws(LambdaAuthorizerFailure) -> LambdaAuthorizerResponse {
        try LambdaAuthorizerResponse(parsing: Array(json.utf8), format: format)
    }

    private func decide(_ json: String, _ format: LambdaAuthorizerResponse.Format) -> AuthorizerDecision {
        do {
            return try parse(json, format).decision(methodArn: arn, kind: format.apiKind)
        } catch {
            return error.decision(for: format.apiKind)
        }
    }

    private func policyResponse(effect: String = "Allow", resource: String? = nil, extra: String = "") -> String {
        #"{"principalId":"user","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"\#(effect)","Resource":"\#(resource ?? arn)"}]}\#(extra)}"#
    }

    private func body(_ decision: AuthorizerDecision) -> String { String(decoding: decision.body, as: UTF8.self) }

    // "Output from an API Gateway Lambda authorizer": principalId, policy, context, usageIdentifierKey.
    func testDocumentedRestOutputAllowsWithPrincipalContextAndUsageKey() {
        let json = policyResponse(extra: #","context":{"stringKey":"value","numberKey":1,"booleanKey":true},"usageIdentifierKey":"test-only-key""#)
        XCTAssertEqual(decide(json, .restPolicy), .allow(AuthorizedPrincipal(
            principalId: "user",
            context: ["stringKey": .string("value"), "numberKey": .integer(1), "booleanKey": .bool(true)],
            usageIdentifierKey: "test-only-key")))
    }

    func testRestExplicitDenyIs403WithTheExplicitDenyMessage() {
        let decision = decide(policyResponse(effect: "Deny"), .restPolicy)
        XCTAssertEqual(decision, .forbidden(.rest, explicitDeny: true))
        XCTAssertEqual(decision.status, 403)
        XCTAssertEqual(body(decision), #"{"message":"User is not authorized to access this resource with an explicit deny"}"#)
        XCTAssertEqual(decision.restErrorType, "AccessDeniedException")
    }

    func testRestPolicyForAnotherMethodIs403ImplicitDeny() {
        let decision = decide(policyResponse(resource: "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/POST/request"),
                              .restPolicy)
        XCTAssertEqual(decision.status, 403)
        XCTAssertEqual(body(decision), #"{"message":"User is not authorized to access this resource"}"#)
    }

    func testHttpPolicyDenyIs403Forbidden() {
        for effect in ["Deny", "Allow"] {
            let resource = effect == "Allow" ? "arn:aws:execute-api:us-east-1:1:other/*" : arn
            let decision = decide(policyResponse(effect: effect, resource: resource), .httpPolicy)
            XCTAssertEqual(decision.status, 403)
            XCTAssertEqual(body(decision), #"{"message":"Forbidden"}"#)
            XCTAssertNil(decision.restErrorType)
        }
    }

    // HTTP API Lambda authorizer page: context values may be arrays and maps there.
    func testHttpPolicyContextMayHoldArraysAndObjects() {
        let json = policyResponse(extra: #","context":{"arrayKey":["value1","value2"],"mapKey":{"value1":"value2"}}"#)
        guard case .allow(let principal) = decide(json, .httpPolicy) else { return XCTFail("not allowed") }
        XCTAssertEqual(principal.context["arrayKey"], .array([.string("value1"), .string("value2")]))
        XCTAssertEqual(principal.context["mapKey"], .object(["value1": .string("value2")]))
    }

    // HTTP API Lambda authorizer page, simple response example.
    func testSimpleResponses() {
        let allowed = decide(#"{"isAuthorized":true,"context":{"stringKey":"value","numberKey":1,"mapKey":{"value1":"value2"}}}"#,
                             .httpSimple)
        XCTAssertEqual(allowed, .allow(AuthorizedPrincipal(
            principalId: nil,
            context: ["stringKey": .string("value"), "numberKey": .integer(1), "mapKey": .object(["value1": .string("value2")])],
            usageIdentifierKey: nil)))
        let refused = decide(#"{"isAuthorized":false}"#, .httpSimple)
        XCTAssertEqual(refused, .forbidden(.http, explicitDeny: false))
        XCTAssertEqual(body(refused), #"{"message":"Forbidden"}"#)
    }

    func testSimpleResponseAllowsEveryMethodOnceCached() throws {
        let response = try parse(#"{"isAuthorized":true}"#, .httpSimple)
        XCTAssertEqual(response.decision(methodArn: "arn:aws:execute-api:x:1:a/$default/DELETE/anything", kind: .http).status, 200)
    }

    func testEveryMalformedRestResponseIs500WithANullMessage() {
        let cases: [(String, LambdaAuthorizerFailure)] = [
            ("", .responseNotJSON),
            ("{", .responseNotJSON),
            (#"{"principalId":"u"} trailing"#, .responseNotJSON),
            ("null", .responseNotObject),
            (#""Allow""#, .responseNotObject),
            (#"[{"principalId":"u"}]"#, .responseNotObject),
            (#"{"policyDocument":{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}}"#, .invalidPrincipalId),
            (#"{"principalId":7,"policyDocument":{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}}"#,
             .invalidPrincipalId),
            (#"{"principalId":"u"}"#, .missingPolicyDocument),
            (#"{"principalId":"u","policyDocument":"Allow"}"#, .missingPolicyDocument),
            (#"{"principalId":"u","policyDocument":{"Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}}"#,
             .invalidPolicy("Effect is not Allow or Deny")),
            (policyResponse(extra: #","context":{"nested":{"a":"b"}}"#), .invalidContext(key: "nested")),
            (policyResponse(extra: #","context":{"ok":"x","list":["a"]}"#), .invalidContext(key: "list")),
            (policyResponse(extra: #","context":{"nothing":null}"#), .invalidContext(key: "nothing")),
            (policyResponse(extra: #","context":"user=1""#), .invalidContext(key: nil)),
            (policyResponse(extra: #","usageIdentifierKey":42"#), .invalidUsageIdentifierKey),
        ]
        for (json, expected) in cases {
            XCTAssertThrowsError(try parse(json, .restPolicy), json) { error in
                XCTAssertEqual(error as? LambdaAuthorizerFailure, expected, json)
            }
            let decision = decide(json, .restPolicy)
            XCTAssertEqual(decision, .failure(.rest), json)
            XCTAssertEqual(decision.status, 500, json)
            XCTAssertEqual(body(decision), #"{"message":null}"#, json)
            XCTAssertEqual(decision.restErrorType, "AuthorizerConfigurationException", json)
        }
    }

    func testEveryMalformedHttpResponseIs500InternalServerError() {
        let cases: [(String, LambdaAuthorizerResponse.Format, LambdaAuthorizerFailure)] = [
            ("nope", .httpSimple, .responseNotJSON),
            ("true", .httpSimple, .responseNotObject),
            ("{}", .httpSimple, .invalidIsAuthorized),
            (#"{"isAuthorized":"true"}"#, .httpSimple, .invalidIsAuthorized),
            (#"{"isAuthorized":1}"#, .httpSimple, .invalidIsAuthorized),
            (policyResponse(), .httpSimple, .invalidIsAuthorized),
            (#"{"isAuthorized":true,"context":[1]}"#, .httpSimple, .invalidContext(key: nil)),
            (#"{"isAuthorized":true}"#, .httpPolicy, .invalidPrincipalId),
            (#"{"principalId":"u","policyDocument":{}}"#, .httpPolicy,
             .invalidPolicy("Statement is not an object or a non-empty array")),
        ]
        for (json, format, expected) in cases {
            XCTAssertThrowsError(try parse(json, format), json) { error in
                XCTAssertEqual(error as? LambdaAuthorizerFailure, expected, json)
            }
            let decision = decide(json, format)
            XCTAssertEqual(decision.status, 500, json)
            XCTAssertEqual(body(decision), #"{"message":"Internal Server Error"}"#, json)
        }
    }

    func testAbsentOrNullContextAndUsageKeyAreEmpty() throws {
        let response = try parse(policyResponse(extra: #","context":null,"usageIdentifierKey":null"#), .restPolicy)
        XCTAssertEqual(response.decision(methodArn: arn, kind: .rest),
                       .allow(AuthorizedPrincipal(principalId: "user", context: [:], usageIdentifierKey: nil)))
    }

    func testFunctionErrorUnauthorizedIs401AndAnyOtherErrorIs500() {
        let unauthorized = LambdaAuthorizerFailure.functionError(message: "Unauthorized")
        XCTAssertEqual(unauthorized, .unauthorizedByFunction)
        for kind in [AuthorizerAPIKind.rest, .http] {
            let decision = unauthorized.decision(for: kind)
            XCTAssertEqual(decision.status, 401)
            XCTAssertEqual(body(decision), #"{"message":"Unauthorized"}"#)
        }
        XCTAssertEqual(unauthorized.decision(for: .rest).restErrorType, "UnauthorizedException")
        for message in ["unauthorized", "Unauthorized.", "Invalid token", ""] {
            let failure = LambdaAuthorizerFailure.functionError(message: message)
            XCTAssertEqual(failure, .functionFailed, message)
            XCTAssertEqual(body(failure.decision(for: .rest)), #"{"message":null}"#)
            XCTAssertEqual(body(failure.decision(for: .http)), #"{"message":"Internal Server Error"}"#)
        }
    }

    func testMissingIdentityAndFailedValidationAre401() {
        for failure in [LambdaAuthorizerFailure.identitySourceMissing, .tokenFailedValidation] {
            XCTAssertEqual(failure.status, 401)
            XCTAssertEqual(failure.decision(for: .http), .unauthorized)
        }
    }

    func testAllowHasNoBody() {
        let allow = AuthorizerDecision.allow(AuthorizedPrincipal(principalId: "u", context: [:], usageIdentifierKey: nil))
        XCTAssertEqual(allow.status, 200)
        XCTAssertEqual(allow.body, [])
        XCTAssertNil(allow.restErrorType)
    }

    func testContextValuesAreStringifiedForContextVariables() {
        let principal = AuthorizedPrincipal(principalId: "u", context: ["stringKey": .string("value"), "numberKey": .integer(1),
                                                                        "booleanKey": .bool(true), "real": .number(2.5)],
                                            usageIdentifierKey: nil)
        XCTAssertEqual(principal.contextText("stringKey"), "value")
        XCTAssertEqual(principal.contextText("numberKey"), "1")
        XCTAssertEqual(principal.contextText("booleanKey"), "true")
        XCTAssertEqual(principal.contextText("real"), "2.5")
        XCTAssertNil(principal.contextText("absent"))
    }
}
