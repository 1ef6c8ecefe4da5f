import XCTest
import TurnpikeRouting

final class RouteKeyTests: XCTestCase {
    private func error(_ text: String, line: UInt = #line) -> RouteKeyError? {
        do {
            _ = try RouteKey(parsing: text)
            XCTFail("'\(text)' was accepted", line: line)
            return nil
        } catch {
            return error
        }
    }

    func testDefaultRouteKeyParses() throws {
        XCTAssertEqual(try RouteKey(parsing: "$default"), .defaultRoute)
        XCTAssertEqual(RouteKey.defaultRoute.description, "$default")
    }

    func testMethodAndPathWithVariablesParse() throws {
        let key = try RouteKey(parsing: "GET /pets/{id}")
        XCTAssertEqual(key, .route(method: .get, segments: [.literal("pets"), .variable("id")]))
        XCTAssertEqual(key.parameterNames, ["id"])
        XCTAssertEqual(key.description, "GET /pets/{id}")
    }

    func testGreedyVariableNameDropsThePlus() throws {
        let key = try RouteKey(parsing: "ANY /{proxy+}")
        XCTAssertEqual(key, .route(method: .any, segments: [.greedy("proxy")]))
        XCTAssertEqual(key.parameterNames, ["proxy"])
        XCTAssertEqual(key.description, "ANY /{proxy+}")
    }

    func testRootPathHasNoSegments() throws {
        let key = try RouteKey(parsing: "POST /")
        XCTAssertEqual(key, .route(method: .post, segments: []))
        XCTAssertEqual(key.description, "POST /")
    }

    func testEveryAllowedMethodParses() throws {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"] {
            XCTAssertEqual(try RouteKey(parsing: "\(method) /x").description, "\(method) /x")
        }
    }

    func testVariableNamesMayUseDotsDashesAndUnderscores() throws {
        XCTAssertEqual(try RouteKey(parsing: "GET /{pet.id}/{owner_id}/{x-y}").parameterNames,
                       ["pet.id", "owner_id", "x-y"])
    }

    func testUnknownMethodIsRejected() {
        XCTAssertEqual(error("FETCH /pets"), .unknownMethod("FETCH"))
        XCTAssertEqual(error("FETCH /pets")?.message,
                       "unknown method 'FETCH': expected one of GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, ANY")
    }

    func testLowercaseMethodIsRejected() {
        XCTAssertEqual(error("get /pets"), .unknownMethod("get"))
    }

    func testKeyWithoutPathIsRejected() {
        XCTAssertEqual(error("GET"), .missingPath("GET"))
        XCTAssertEqual(error("default"), .missingPath("default"))
        XCTAssertEqual(error(""), .missingPath(""))
    }

    func testPathNotStartingWithSlashIsRejected() {
        XCTAssertEqual(error("GET pets"), .pathMustStartWithSlash("pets"))
        XCTAssertEqual(error("GET  /pets"), .pathMustStartWithSlash(" /pets"))
        XCTAssertEqual(error("GET $default"), .pathMustStartWithSlash("$default"))
    }

    func testPathEndingWithSlashIsRejected() {
        XCTAssertEqual(error("GET /pets/"), .trailingSlash("/pets/"))
        XCTAssertEqual(error("GET /pets/")?.message, "path '/pets/' must not end with '/'")
    }

    func testEmptySegmentIsRejected() {
        XCTAssertEqual(error("GET /pets//toys"), .emptySegment("/pets//toys"))
        XCTAssertEqual(error("GET //"), .trailingSlash("//"))
    }

    func testGreedyVariableNotLastIsRejected() {
        XCTAssertEqual(error("GET /{proxy+}/toys"), .greedyVariableNotLast("/{proxy+}/toys"))
    }

    func testDuplicateVariableNameIsRejected() {
        XCTAssertEqual(error("GET /{id}/toys/{id}"), .duplicateVariable("/{id}/toys/{id}", "id"))
        XCTAssertEqual(error("GET /{id}/{id+}"), .duplicateVariable("/{id}/{id+}", "id"))
    }

    func testBracesThatAreNotAWholeSegmentAreRejected() {
        XCTAssertEqual(error("GET /pets{id}"), .malformedBraces("/pets{id}", "pets{id}"))
        XCTAssertEqual(error("GET /{id}.json"), .malformedBraces("/{id}.json", "{id}.json"))
        XCTAssertEqual(error("GET /{id"), .malformedBraces("/{id", "{id"))
        XCTAssertEqual(error("GET /id}"), .malformedBraces("/id}", "id}"))
        XCTAssertEqual(error("GET /{{id}}"), .malformedBraces("/{{id}}", "{{id}}"))
        XCTAssertEqual(error("GET /{a}{b}"), .malformedBraces("/{a}{b}", "{a}{b}"))
    }

    func testEmptyOrInvalidVariableNameIsRejected() {
        XCTAssertEqual(error("GET /{}"), .invalidVariableName("/{}", "{}"))
        XCTAssertEqual(error("GET /{+}"), .invalidVariableName("/{+}", "{+}"))
        XCTAssertEqual(error("GET /{a++}"), .invalidVariableName("/{a++}", "{a++}"))
        XCTAssertEqual(error("GET /{a*}"), .invalidVariableName("/{a*}", "{a*}"))
    }

    func testWhitespaceInPathIsRejected() {
        XCTAssertEqual(error("GET /a b"), .invalidCharacter("/a b", " "))
        XCTAssertEqual(error("GET /a\tb")?.message, "path '/a\tb' contains the invalid character U+9")
    }
}

final class PathParameterDecodingTests: XCTestCase {
    func testPercentEncodedBytesAreDecoded() {
        XCTAssertEqual(PathParameterDecoding.value(of: "a%20b"), "a b")
        XCTAssertEqual(PathParameterDecoding.value(of: "caf%C3%A9"), "café")
        XCTAssertEqual(PathParameterDecoding.value(of: "%e2%82%ac"), "€")
    }

    func testValueIsDecodedAgainAfterRouting() {
        // Routing decoded %252F to %2F; the parameter then decodes to '/'.
        XCTAssertEqual(PathParameterDecoding.value(of: "a%252Fb"), "a/b")
        XCTAssertEqual(PathParameterDecoding.value(of: "100%2525"), "100%")
    }

    func testPlusStaysPlusInPathParameters() {
        XCTAssertEqual(PathParameterDecoding.value(of: "a+b"), "a+b")
        XCTAssertEqual(PathParameterDecoding.value(of: "a%2Bb"), "a+b")
    }

    func testMalformedEscapesAreKeptAsWritten() {
        XCTAssertEqual(PathParameterDecoding.value(of: "100%"), "100%")
        XCTAssertEqual(PathParameterDecoding.value(of: "%zz"), "%zz")
        XCTAssertEqual(PathParameterDecoding.value(of: "%4"), "%4")
    }

    func testInvalidUtf8BecomesReplacementCharacter() {
        XCTAssertEqual(PathParameterDecoding.value(of: "a%FFb"), "a\u{FFFD}b")
    }

    func testPlainValueIsUnchanged() {
        XCTAssertEqual(PathParameterDecoding.value(of: "Dog-42_x.json"), "Dog-42_x.json")
        XCTAssertEqual(PathParameterDecoding.value(of: ""), "")
    }
}
