import XCTest
@testable import TurnpikeRouting

/// Compiles `routes` (payload = position) and reports the route key chosen for a request and its decoded parameters.
private struct Fixture {
    let routes: [String]
    let table: RouteTable

    init(_ routes: [String]) throws {
        self.routes = routes
        table = try RouteTable(routes: routes.enumerated().map { ($0.element, $0.offset) })
    }

    func route(_ method: String, _ path: String) -> (key: String?, parameters: [String: String]) {
        var captures = table.makeCaptures()
        guard let payload = table.match(method: method, path: path, captures: &captures) else {
            XCTAssertEqual(captures.count, 0)
            return (nil, [:])
        }
        var parameters: [String: String] = [:]
        for (name, value) in table.pathParameters(captures, path: path) {
            XCTAssertNil(parameters[name], "parameter \(name) captured twice")
            parameters[name] = value
        }
        return (routes[payload], parameters)
    }
}

private struct Row {
    let routes: [String]
    let method: String
    let path: String
    let expected: String?
    let parameters: [String: String]
    let why: String
    let line: UInt

    init(_ routes: [String], _ method: String, _ path: String, _ expected: String?,
         _ parameters: [String: String] = [:], _ why: String, line: UInt = #line) {
        self.routes = routes
        self.method = method
        self.path = path
        self.expected = expected
        self.parameters = parameters
        self.why = why
        self.line = line
    }
}

// The example from "Routing API requests" in the AWS HTTP API developer guide.
private let awsExample = ["GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "$default"]

private let petStore = [
    "GET /pets", "GET /pets/{id}", "GET /pets/dog", "POST /pets", "ANY /pets/{id}",
    "GET /pets/{id}/toys/{toyId}", "GET /", "HEAD /health", "ANY /static/{path+}",
    "GET /static/index.html", "GET /Files/{name}", "DELETE /users/{userId}",
    "GET /users/{userId}/orders/{orderId}",
]

private let rootAndProxy = ["ANY /{proxy+}", "$default", "GET /"]
private let leftmostLiteral = ["GET /{a}/{b}", "GET /{a}/b", "GET /a/{b}"]
private let backtracking = ["GET /a/{x}/c", "GET /{y}/b/{z}"]
private let greedyMethods = ["GET /pets/{proxy+}", "ANY /pets/{proxy+}"]
private let onlyDefault = ["$default"]
private let literalVsGreedy = ["GET /docs/{proxy+}", "GET /docs/latest", "GET /docs/{version}"]

private let rows: [Row] = [
    // AWS's own example table.
    Row(awsExample, "GET", "/pets/dog/1", "GET /pets/dog/{id}", ["id": "1"], "full match beats greedy"),
    Row(awsExample, "GET", "/pets/cat/1", "GET /pets/{proxy+}", ["proxy": "cat/1"], "method greedy beats ANY greedy"),
    Row(awsExample, "POST", "/test/5", "ANY /{proxy+}", ["proxy": "test/5"], "ANY greedy beats $default"),
    Row(awsExample, "POST", "/pets/dog/1", "ANY /{proxy+}", ["proxy": "pets/dog/1"], "no POST route: ANY greedy"),
    Row(awsExample, "GET", "/pets", "ANY /{proxy+}", ["proxy": "pets"], "greedy needs a segment after its prefix"),
    Row(awsExample, "GET", "/", "$default", [:], "root is not caught by /{proxy+}"),

    // Literal, variable, method.
    Row(petStore, "GET", "/pets", "GET /pets", [:], "exact literal path"),
    Row(petStore, "POST", "/pets", "POST /pets", [:], "same path, other method"),
    Row(petStore, "PUT", "/pets", nil, [:], "no route for method and no ANY: 404"),
    Row(petStore, "GET", "/pets/dog", "GET /pets/dog", [:], "literal beats variable"),
    Row(petStore, "GET", "/pets/cat", "GET /pets/{id}", ["id": "cat"], "variable catches other values"),
    Row(petStore, "GET", "/pets/7", "GET /pets/{id}", ["id": "7"], "method beats ANY on same path"),
    Row(petStore, "DELETE", "/pets/7", "ANY /pets/{id}", ["id": "7"], "ANY catches undefined methods"),
    Row(petStore, "POST", "/pets/dog", "ANY /pets/{id}", ["id": "dog"], "literal without method falls back to variable ANY"),
    Row(petStore, "TRACE", "/pets/1", "ANY /pets/{id}", ["id": "1"], "unknown method reaches ANY"),
    Row(petStore, "get", "/pets", nil, [:], "methods are case-sensitive"),
    Row(petStore, "GET", "/pets/7/toys/ball", "GET /pets/{id}/toys/{toyId}", ["id": "7", "toyId": "ball"], "several variables"),
    Row(petStore, "GET", "/pets/7/toys", nil, [:], "prefix of a route is not a match"),
    Row(petStore, "GET", "/pets/7/toys/ball/extra", nil, [:], "longer than every route"),
    Row(petStore, "GET", "/users/42/orders/9", "GET /users/{userId}/orders/{orderId}", ["userId": "42", "orderId": "9"], "variables in two positions"),
    Row(petStore, "DELETE", "/users/42", "DELETE /users/{userId}", ["userId": "42"], "DELETE route"),
    Row(petStore, "GET", "/users//orders/9", nil, [:], "variable never matches an empty segment"),

    // Trailing slash, root, odd paths.
    Row(petStore, "GET", "/pets/", "GET /pets", [:], "one trailing slash is ignored"),
    Row(petStore, "GET", "/pets/7/", "GET /pets/{id}", ["id": "7"], "trailing slash after a variable is ignored"),
    Row(petStore, "GET", "/pets//", nil, [:], "two trailing slashes are an empty segment"),
    Row(petStore, "GET", "/", "GET /", [:], "root route"),
    Row(petStore, "GET", "", "GET /", [:], "empty path routes as root"),
    Row(petStore, "POST", "/", nil, [:], "root route is method specific"),
    Row(petStore, "GET", "//", nil, [:], "double slash is not root"),
    Row(petStore, "GET", "*", nil, [:], "asterisk-form matches no route"),

    // HEAD.
    Row(petStore, "HEAD", "/pets", nil, [:], "HEAD does not fall back to GET"),
    Row(petStore, "HEAD", "/health", "HEAD /health", [:], "HEAD route"),
    Row(petStore, "GET", "/health", nil, [:], "GET does not use a HEAD route"),

    // Greedy.
    Row(petStore, "GET", "/static/index.html", "GET /static/index.html", [:], "exact beats greedy"),
    Row(petStore, "GET", "/static/css/site.css", "ANY /static/{path+}", ["path": "css/site.css"], "greedy spans segments"),
    Row(petStore, "POST", "/static/index.html", "ANY /static/{path+}", ["path": "index.html"], "exact GET does not take POST"),
    Row(petStore, "GET", "/static", nil, [:], "greedy needs at least one segment"),
    Row(petStore, "GET", "/static/", nil, [:], "greedy does not match an empty remainder"),
    Row(petStore, "GET", "/static/a/b/c/d/e/f/g/h/i/j", "ANY /static/{path+}", ["path": "a/b/c/d/e/f/g/h/i/j"], "deep greedy path"),
    Row(petStore, "GET", "/static/a/b/", "ANY /static/{path+}", ["path": "a/b/"], "greedy keeps the trailing slash"),
    Row(greedyMethods, "GET", "/pets/x", "GET /pets/{proxy+}", ["proxy": "x"], "method greedy beats ANY greedy"),
    Row(greedyMethods, "PATCH", "/pets/x/y", "ANY /pets/{proxy+}", ["proxy": "x/y"], "ANY greedy for other methods"),
    Row(literalVsGreedy, "GET", "/docs/latest", "GET /docs/latest", [:], "literal beats variable and greedy"),
    Row(literalVsGreedy, "GET", "/docs/v2", "GET /docs/{version}", ["version": "v2"], "variable beats greedy"),
    Row(literalVsGreedy, "GET", "/docs/v2/intro", "GET /docs/{proxy+}", ["proxy": "v2/intro"], "greedy takes what is deeper"),
    Row(literalVsGreedy, "GET", "/docs/latest/intro", "GET /docs/{proxy+}", ["proxy": "latest/intro"], "greedy after a literal dead end"),

    // Case sensitivity.
    Row(petStore, "GET", "/PETS", nil, [:], "path literals are case-sensitive"),
    Row(petStore, "GET", "/files/a", nil, [:], "route literal case must match"),
    Row(petStore, "GET", "/Files/A.txt", "GET /Files/{name}", ["name": "A.txt"], "variable value keeps its case"),

    // Segment-by-segment precedence and backtracking.
    Row(leftmostLiteral, "GET", "/a/b", "GET /a/{b}", ["b": "b"], "leftmost literal decides"),
    Row(leftmostLiteral, "GET", "/x/b", "GET /{a}/b", ["a": "x"], "literal in second segment"),
    Row(leftmostLiteral, "GET", "/x/y", "GET /{a}/{b}", ["a": "x", "b": "y"], "all variables"),
    Row(backtracking, "GET", "/a/b/c", "GET /a/{x}/c", ["x": "b"], "literal branch completes"),
    Row(backtracking, "GET", "/a/b/d", "GET /{y}/b/{z}", ["y": "a", "z": "d"], "dead literal branch backtracks to variable"),

    // $default.
    Row(rootAndProxy, "GET", "/", "GET /", [:], "root route beats $default"),
    Row(rootAndProxy, "POST", "/", "$default", [:], "root without route falls to $default"),
    Row(rootAndProxy, "DELETE", "/a/b", "ANY /{proxy+}", ["proxy": "a/b"], "greedy beats $default"),
    Row(onlyDefault, "GET", "/anything/at/all", "$default", [:], "$default alone catches everything"),
    Row(onlyDefault, "BREW", "*", "$default", [:], "$default catches non-path targets"),

    // Percent-encoding.
    Row(petStore, "GET", "/p%65ts", "GET /pets", [:], "literal matched after decoding"),
    Row(petStore, "GET", "/pets/a%2Fb", nil, [:], "encoded slash separates segments"),
    Row(petStore, "GET", "/pets/a%252Fb", "GET /pets/{id}", ["id": "a/b"], "double-encoded slash stays in the value"),
    Row(petStore, "GET", "/pets/caf%C3%A9", "GET /pets/{id}", ["id": "café"], "UTF-8 value decoded"),
    Row(petStore, "GET", "/pets/a+b%20c", "GET /pets/{id}", ["id": "a+b c"], "plus is not a space in a path"),
]

final class RouteTableTests: XCTestCase {
    func testRouteSelectionFollowsAwsPrecedenceTable() throws {
        XCTAssertGreaterThanOrEqual(rows.count, 40)
        for row in rows {
            let fixture = try Fixture(row.routes)
            let result = fixture.route(row.method, row.path)
            XCTAssertEqual(result.key, row.expected, "\(row.method) \(row.path): \(row.why)", line: row.line)
            XCTAssertEqual(result.parameters, row.parameters, "\(row.method) \(row.path): \(row.why)", line: row.line)
        }
    }

    func testGreedyProxyRouteLosesToExactRoute() throws {
        let fixture = try Fixture(["ANY /{proxy+}", "GET /pets"])
        XCTAssertEqual(fixture.route("GET", "/pets").key, "GET /pets")
    }

    func testVariableRouteLosesToLiteralRoute() throws {
        let fixture = try Fixture(["GET /pets/{id}", "GET /pets/mine"])
        XCTAssertEqual(fixture.route("GET", "/pets/mine").key, "GET /pets/mine")
    }

    func testAnyRouteLosesToMethodRouteOnSamePath() throws {
        let fixture = try Fixture(["ANY /pets", "GET /pets"])
        XCTAssertEqual(fixture.route("GET", "/pets").key, "GET /pets")
        XCTAssertEqual(fixture.route("PUT", "/pets").key, "ANY /pets")
    }

    func testDefaultRouteOnlyWhenNothingElseMatches() throws {
        let fixture = try Fixture(["$default", "GET /pets"])
        XCTAssertEqual(fixture.route("GET", "/pets").key, "GET /pets")
        XCTAssertEqual(fixture.route("GET", "/cats").key, "$default")
    }

    func testNoMatchWithoutDefaultRouteReturnsNil() throws {
        let fixture = try Fixture(["GET /pets"])
        XCTAssertNil(fixture.route("GET", "/cats").key)
    }

    func testHeadRequestDoesNotFallBackToGetRoute() throws {
        let fixture = try Fixture(["GET /pets"])
        XCTAssertNil(fixture.route("HEAD", "/pets").key)
    }

    func testRequestTrailingSlashIsIgnored() throws {
        let fixture = try Fixture(["GET /pets"])
        XCTAssertEqual(fixture.route("GET", "/pets/").key, "GET /pets")
    }

    func testGreedyRouteDoesNotMatchRoot() throws {
        let fixture = try Fixture(["ANY /{proxy+}"])
        XCTAssertNil(fixture.route("GET", "/").key)
    }

    func testCapturesAreRawByteRangesWithNameIndices() throws {
        let table = try RouteTable(routes: [("GET /users/{userId}/orders/{orderId}", 0), ("GET /files/{path+}", 1)])
        XCTAssertEqual(table.parameterNames, ["userId", "orderId", "path"])
        XCTAssertEqual(table.maxParameterCount, 2)
        var captures = table.makeCaptures()
        XCTAssertEqual(table.match(method: "GET", path: "/users/a%20b/orders/9", captures: &captures), 0)
        XCTAssertEqual(captures.count, 2)
        XCTAssertEqual(captures[0], PathCaptures.Capture(start: 7, end: 12, nameIndex: 0))
        XCTAssertEqual(captures[1], PathCaptures.Capture(start: 20, end: 21, nameIndex: 1))
        XCTAssertEqual(table.match(method: "GET", path: "/files/x/y", captures: &captures), 1)
        XCTAssertEqual(captures.count, 1)
        XCTAssertEqual(captures[0], PathCaptures.Capture(start: 7, end: 10, nameIndex: 2))
    }

    func testCapturesAreClearedWhenDefaultRouteMatches() throws {
        let table = try RouteTable(routes: [("GET /pets/{id}/toys", 0), ("$default", 1)])
        var captures = table.makeCaptures()
        XCTAssertEqual(table.match(method: "GET", path: "/pets/1/food", captures: &captures), 1)
        XCTAssertEqual(captures.count, 0)
    }

    func testMatchesFromRawByteBuffers() throws {
        let table = try RouteTable(routes: [("GET /pets/{id}", 3)])
        var captures = table.makeCaptures()
        let request: [UInt8] = Array("GET /pets/42 HTTP/1.1".utf8)
        let payload = request.withUnsafeBytes { bytes in
            table.match(method: UnsafeRawBufferPointer(rebasing: bytes[0..<3]),
                        path: UnsafeRawBufferPointer(rebasing: bytes[4..<12]), captures: &captures)
        }
        XCTAssertEqual(payload, 3)
        XCTAssertEqual(captures[0].start, 6)
        XCTAssertEqual(captures[0].end, 8)
    }

    func testMatchingAfterApiSelectorStripsStage() throws {
        let table = try RouteTable(routes: [("GET /pets/{id}", 0), ("GET /", 1)])
        var captures = table.makeCaptures()
        let method = Array("GET".utf8)
        let path = Array("/prod/pets/9".utf8)
        func match(from pathStart: Int) -> Int? {
            method.withUnsafeBytes { m in
                path.withUnsafeBytes { p in
                    table.match(method: m, path: UnsafeRawBufferPointer(rebasing: p[pathStart...]), captures: &captures)
                }
            }
        }
        XCTAssertEqual(match(from: 5), 0)
        XCTAssertEqual(captures[0].start, 6, "captures are relative to the buffer given to match")
        XCTAssertEqual(match(from: 12), 1, "an empty remainder after the stage routes as /")
    }

    func testRouteKeyForPayloadNamesMatchedRoute() throws {
        let table = try RouteTable(routes: [("GET /pets/{id}", 10), ("$default", 11)])
        XCTAssertEqual(table.routeKey(forPayload: 10)?.description, "GET /pets/{id}")
        XCTAssertEqual(table.routeKey(forPayload: 11), .defaultRoute)
        XCTAssertNil(table.routeKey(forPayload: 12))
    }

    func testInvalidRouteKeyIsNamedInTableError() {
        XCTAssertThrowsError(try RouteTable(routes: [("GET /ok", 0), ("GET /a/{x+}/b", 1)])) { error in
            XCTAssertEqual(error as? RouteTableError, .invalidRouteKey("GET /a/{x+}/b", .greedyVariableNotLast("/a/{x+}/b")))
            XCTAssertEqual((error as? RouteTableError)?.message,
                           "invalid route key 'GET /a/{x+}/b': greedy variable in path '/a/{x+}/b' must be the last segment")
        }
    }

    func testDuplicateRouteKeyIsRejected() {
        XCTAssertThrowsError(try RouteTable(routes: [("GET /pets", 0), ("GET /pets", 1)])) { error in
            XCTAssertEqual(error as? RouteTableError, .duplicateRouteKey("GET /pets", existing: "GET /pets"))
            XCTAssertEqual((error as? RouteTableError)?.message, "duplicate route key 'GET /pets'")
        }
    }

    func testRoutesDifferingOnlyInVariableNamesAreDuplicates() {
        XCTAssertThrowsError(try RouteTable(routes: [("GET /pets/{id}", 0), ("GET /pets/{petId}", 1)])) { error in
            XCTAssertEqual(error as? RouteTableError, .duplicateRouteKey("GET /pets/{petId}", existing: "GET /pets/{id}"))
        }
        XCTAssertThrowsError(try RouteTable(routes: [("ANY /{proxy+}", 0), ("ANY /{rest+}", 1)]))
    }

    func testSecondDefaultRouteIsRejected() {
        XCTAssertThrowsError(try RouteTable(routes: [("$default", 0), ("$default", 1)])) { error in
            XCTAssertEqual(error as? RouteTableError, .duplicateRouteKey("$default", existing: "$default"))
        }
    }

    func testSamePathWithDifferentMethodsIsNotDuplicate() throws {
        XCTAssertNoThrow(try RouteTable(routes: [("GET /pets", 0), ("ANY /pets", 1), ("POST /pets", 2)]))
        XCTAssertNoThrow(try RouteTable(routes: [("GET /pets/{id}", 0), ("GET /pets/{id+}", 1)]))
    }

    func testEmptyTableMatchesNothing() throws {
        let fixture = try Fixture([])
        XCTAssertNil(fixture.route("GET", "/").key)
    }

    func testMethodSlotRecognisesOnlyRouteKeyMethods() {
        func slot(_ method: String) -> Int {
            Array(method.utf8).withUnsafeBytes { RouteTable.methodSlot($0) }
        }
        for method in RouteMethod.allCases where method != .any {
            XCTAssertEqual(slot(method.rawValue), method.slot, method.rawValue)
        }
        XCTAssertEqual(slot("ANY"), -1)
        XCTAssertEqual(slot("Get"), -1)
        XCTAssertEqual(slot("CONNECT"), -1)
        XCTAssertEqual(slot(""), -1)
    }
}
