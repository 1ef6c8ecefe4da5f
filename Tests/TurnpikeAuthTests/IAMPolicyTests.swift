import XCTest
@testable import TurnpikeAuth

/// Pins method ARNs and the evaluation of Lambda authorizer policies: explicit deny wins,
/// wildcards per ARN segment, string-or-array elements.
final class IAMPolicyTests: XCTestCase {
    private let arn = MethodArn(region: "us-east-1", accountId: "123456789012", apiId: "s4x3opwd6i", stage: "test",
                                method: "GET", path: "/request")

    private func policy(_ json: String) throws -> IAMPolicy {
        try IAMPolicy(document: JSONValue(json: Array(json.utf8))!)
    }

    private func verdict(_ json: String, _ methodArn: String) throws -> PolicyVerdict {
        IAMPolicyEvaluator.evaluate(try policy(json), methodArn: methodArn)
    }

    private func statement(_ effect: String, _ resource: String, action: String = #""execute-api:Invoke""#) -> String {
        #"{"Version":"2012-10-17","Statement":{"Effect":"\#(effect)","Action":\#(action),"Resource":\#(resource)}}"#
    }

    // "Input to an Amazon API Gateway Lambda authorizer": the REQUEST example's methodArn.
    func testMethodArnMatchesTheDocumentedRequestExample() {
        XCTAssertEqual(arn.text, "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/request")
        XCTAssertEqual(arn, MethodArn(region: "us-east-1", accountId: "123456789012", apiId: "s4x3opwd6i",
                                      stage: "test", method: "get", path: "request"))
    }

    func testRootResourceEndsWithTheMethodAndASlash() {
        let root = MethodArn(region: "us-west-2", accountId: "123456789012", apiId: "ymy8tbxw7b", stage: "prod",
                             method: "GET", path: "/")
        XCTAssertEqual(root.text, "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/prod/GET/")
    }

    func testAllowForTheExactArn() throws {
        XCTAssertEqual(try verdict(statement("Allow", "\"\(arn.text)\""), arn.text), .allow)
    }

    func testNoMatchingStatementIsAnImplicitDeny() throws {
        let other = "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/POST/request"
        XCTAssertEqual(try verdict(statement("Allow", "\"\(other)\""), arn.text), .implicitDeny)
    }

    func testExplicitDenyWinsOverAnAllowInEitherOrder() throws {
        let allowAll = #"{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}"#
        let denyGet = #"{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*/*/GET/*"}"#
        XCTAssertEqual(try verdict(#"{"Statement":[\#(allowAll),\#(denyGet)]}"#, arn.text), .explicitDeny)
        XCTAssertEqual(try verdict(#"{"Statement":[\#(denyGet),\#(allowAll)]}"#, arn.text), .explicitDeny)
        let post = "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/POST/request"
        XCTAssertEqual(try verdict(#"{"Statement":[\#(denyGet),\#(allowAll)]}"#, post), .allow)
    }

    // "Output from an API Gateway Lambda authorizer": Deny GET on the root in any stage.
    func testDocumentedDenyExampleCoversTheRootInAnyStage() throws {
        let json = statement("Deny", #""arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/""#)
        XCTAssertEqual(try verdict(json, "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/prod/GET/"),
                       .explicitDeny)
        XCTAssertEqual(try verdict(json, "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/prod/GET/pets"),
                       .implicitDeny)
    }

    func testStarSpansSlashesWithinTheResourceSegment() throws {
        let json = statement("Allow", #""arn:aws:execute-api:us-east-1:*:s4x3opwd6i/test/*/mydemoresource/*""#)
        let deep = "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/PUT/mydemoresource/a/b/c"
        XCTAssertEqual(try verdict(json, deep), .allow)
        XCTAssertEqual(try verdict(json, "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/PUT/other/a"),
                       .implicitDeny)
    }

    func testDocumentedRegionWideWildcardsCoverEverythingInTheRegion() throws {
        XCTAssertEqual(try verdict(statement("Allow", #""arn:aws:execute-api:us-east-1:*:*""#), arn.text), .allow)
        XCTAssertEqual(try verdict(statement("Allow", #""arn:aws:execute-api:*:*:*""#), arn.text), .allow)
        XCTAssertEqual(try verdict(statement("Allow", #""arn:aws:execute-api:eu-west-1:*:*""#), arn.text),
                       .implicitDeny)
    }

    func testQuestionMarkIsExactlyOneCharacter() throws {
        let json = statement("Allow", #""arn:aws:execute-api:us-east-?:123456789012:s4x3opwd6i/test/GET/reques?""#)
        XCTAssertEqual(try verdict(json, arn.text), .allow)
        XCTAssertEqual(try verdict(json, arn.text + "s"), .implicitDeny)
        XCTAssertEqual(try verdict(json, "arn:aws:execute-api:us-east-10:123456789012:s4x3opwd6i/test/GET/request"),
                       .implicitDeny)
    }

    func testWildcardsInsideASegmentDoNotCrossColons() {
        XCTAssertFalse(IAMPolicyEvaluator.matchesResource("arn:aws:execute-api:us-*-1:1:a/b",
                                                          Array("arn:aws:execute-api:us-x:y-1:1:a/b".utf8)))
        XCTAssertFalse(IAMPolicyEvaluator.matchesResource("arn:aws:execute-api:us?east-1:1:a",
                                                          Array("arn:aws:execute-api:us:east-1:1:a".utf8)))
        // A segment-final star may expand past later colons, and then literal text must still line up.
        XCTAssertTrue(IAMPolicyEvaluator.matchesResource("*:a*b", Array("q:a:z:azb".utf8)))
    }

    func testResourceMatchingIsCaseSensitive() throws {
        XCTAssertEqual(try verdict(statement("Allow", #""arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/get/request""#),
                                   arn.text), .implicitDeny)
    }

    func testResourceAndActionArrays() throws {
        let json = statement("Allow", #"["arn:aws:execute-api:us-east-1:1:x/*", "\#(arn.text)"]"#,
                             action: #"["execute-api:InvalidateCache", "execute-api:Invoke"]"#)
        XCTAssertEqual(try verdict(json, arn.text), .allow)
    }

    func testActionWildcardsAndCase() throws {
        for action in [#""execute-api:*""#, #""*""#, #""execute-api:invoke""#, #""EXECUTE-API:Inv*""#] {
            XCTAssertEqual(try verdict(statement("Allow", #""*""#, action: action), arn.text), .allow, action)
        }
        XCTAssertEqual(try verdict(statement("Allow", #""*""#, action: #""execute-api:InvalidateCache""#), arn.text),
                       .implicitDeny)
        XCTAssertEqual(try verdict(statement("Allow", #""*""#, action: #""lambda:*""#), arn.text), .implicitDeny)
    }

    func testEffectIsReadCaseInsensitively() throws {
        XCTAssertEqual(try verdict(statement("allow", #""*""#), arn.text), .allow)
        XCTAssertEqual(try verdict(statement("DENY", #""*""#), arn.text), .explicitDeny)
    }

    func testStatementObjectOrArrayAndOptionalVersion() throws {
        let one = try policy(#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#)
        let many = try policy(#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        XCTAssertEqual(one.statements, many.statements)
        XCTAssertNil(one.version)
        XCTAssertEqual(many.version, "2012-10-17")
    }

    func testMalformedPolicies() {
        let cases: [(String, LambdaAuthorizerFailure)] = [
            (#"[]"#, .missingPolicyDocument),
            (#"{}"#, .invalidPolicy("Statement is not an object or a non-empty array")),
            (#"{"Statement":[]}"#, .invalidPolicy("Statement is not an object or a non-empty array")),
            (#"{"Statement":"Allow"}"#, .invalidPolicy("Statement is not an object or a non-empty array")),
            (#"{"Version":1,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
             .invalidPolicy("Version is not a string")),
            (#"{"Statement":["x"]}"#, .invalidPolicy("a statement is not an object")),
            (#"{"Statement":{"Effect":"Permit","Action":"*","Resource":"*"}}"#,
             .invalidPolicy("Effect is not Allow or Deny")),
            (#"{"Statement":{"Action":"*","Resource":"*"}}"#, .invalidPolicy("Effect is not Allow or Deny")),
            (#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
             .invalidPolicy("Action is not a string or a non-empty array of strings")),
            (#"{"Statement":{"Effect":"Allow","Action":"*","Resource":[]}}"#,
             .invalidPolicy("Resource is not a string or a non-empty array of strings")),
            (#"{"Statement":{"Effect":"Allow","Action":"*","Resource":["*",1]}}"#,
             .invalidPolicy("Resource holds a non-string")),
            (#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":null}}"#,
             .invalidPolicy("Condition is not supported")),
            (#"{"Statement":{"Effect":"Allow","NotAction":"x","Action":"*","Resource":"*"}}"#,
             .invalidPolicy("NotAction is not supported")),
        ]
        for (json, expected) in cases {
            XCTAssertThrowsError(try policy(json), json) { XCTAssertEqual($0 as? LambdaAuthorizerFailure, expected, json) }
        }
    }
}
