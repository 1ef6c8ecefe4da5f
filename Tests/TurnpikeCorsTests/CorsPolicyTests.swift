import XCTest
import TurnpikeCors

// Configurations the decision tables run against.
private let exact = CorsSpec(
    allowOrigins: ["https://app.example.com", "http://localhost:3000"],
    allowMethods: ["GET", "PUT", "delete"], allowHeaders: ["Content-Type", "X-Api-Key"],
    exposeHeaders: ["X-Request-Id"], maxAge: 300)
private let credentialed = CorsSpec(
    allowOrigins: ["https://app.example.com"], allowMethods: ["*"],
    allowHeaders: ["authorization", "*"], allowCredentials: true)
private let anyOrigin = CorsSpec(
    allowOrigins: ["*", "https://ignored.example.com"], allowMethods: ["GET", "POST"],
    allowHeaders: ["*"], exposeHeaders: ["*"], maxAge: 0)
private let subdomains = CorsSpec(
    allowOrigins: ["https://*.example.com", "http://*.dev.test:8080"], allowMethods: ["PUT"])
private let anyHTTPS = CorsSpec(allowOrigins: ["https://*"], allowMethods: ["GET"])
private let nullOrigin = CorsSpec(allowOrigins: ["null"])
private let defaultPorts = CorsSpec(
    allowOrigins: ["https://Example.COM:443", "http://example.org:80", "https://example.net:8443"])
private let noOrigins = CorsSpec(allowMethods: ["GET"])
private let noCachingAge = CorsSpec(allowOrigins: ["https://a.test"], maxAge: -1)

private func lines(_ text: String) -> String {
    text.split(separator: "|", omittingEmptySubsequences: false).map { $0 + "\r\n" }.joined()
}

private func echoed(_ origin: String, _ rest: String...) -> String {
    lines((["access-control-allow-origin: \(origin)"] + rest + ["vary: origin"]).joined(separator: "|"))
}

private func withBytes<R>(_ text: String?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let text else { return body(nil) }
    return Array(text.utf8).withUnsafeBytes { body($0) }
}

private struct ResponseRow {
    let spec: CorsSpec
    let origin: String
    /// The lines appended, or nil for none.
    let expected: String?
    let why: String
    let line: UInt

    init(_ spec: CorsSpec, _ origin: String, _ expected: String?, _ why: String, line: UInt = #line) {
        self.spec = spec
        self.origin = origin
        self.expected = expected
        self.why = why
        self.line = line
    }
}

private let exposed = "access-control-expose-headers: x-request-id"

private let responseRows: [ResponseRow] = [
    // Exact origins.
    .init(exact, "https://app.example.com", echoed("https://app.example.com", exposed), "listed origin"),
    .init(exact, "HTTPS://APP.Example.COM", echoed("HTTPS://APP.Example.COM", exposed),
          "scheme and host ignore case; the origin is echoed as sent"),
    .init(exact, " https://app.example.com\t", echoed("https://app.example.com", exposed), "surrounding whitespace is not part of the origin"),
    .init(exact, "http://localhost:3000", echoed("http://localhost:3000", exposed), "listed origin with a port"),
    .init(exact, "http://localhost:3001", nil, "another port is another origin"),
    .init(exact, "http://localhost", nil, "a missing port is another origin"),
    .init(exact, "https://app.example.com:8443", nil, "an added port is another origin"),
    .init(exact, "http://app.example.com", nil, "another scheme is another origin"),
    .init(exact, "https://app.example.com/", nil, "an origin has no path"),
    .init(exact, "https://app.example.com.evil.test", nil, "a longer host is another origin"),
    .init(exact, "https://evil.test", nil, "unlisted origin"),
    .init(exact, "null", nil, "the opaque origin is not listed"),
    .init(exact, "", nil, "no origin, no CORS headers"),
    // Credentials: the origin is echoed, never `*`.
    .init(credentialed, "https://app.example.com",
          echoed("https://app.example.com", "access-control-allow-credentials: true"), "credentials with an echoed origin"),
    .init(credentialed, "https://other.example.com", nil, "credentials do not widen the origins"),
    // `*`.
    .init(anyOrigin, "https://anything.test", lines("access-control-allow-origin: *|access-control-expose-headers: *"),
          "`*` answers `*`, expose `*` literally, no vary"),
    .init(anyOrigin, "https://ignored.example.com", lines("access-control-allow-origin: *|access-control-expose-headers: *"),
          "`*` wins over a listed origin"),
    .init(anyOrigin, "null", lines("access-control-allow-origin: *|access-control-expose-headers: *"), "`*` admits the opaque origin"),
    .init(anyOrigin, "", nil, "`*` still needs an Origin header"),
    // Wildcard subdomains.
    .init(subdomains, "https://a.example.com", echoed("https://a.example.com"), "one label"),
    .init(subdomains, "https://a.b.example.com", echoed("https://a.b.example.com"), "two labels"),
    .init(subdomains, "https://x-1.y_2.z.example.com", echoed("https://x-1.y_2.z.example.com"), "three labels, hyphen and underscore"),
    .init(subdomains, "https://A.Example.COM", echoed("https://A.Example.COM"), "wildcard match ignores case"),
    .init(subdomains, "https://example.com", nil, "the bare domain is not a subdomain"),
    .init(subdomains, "https://.example.com", nil, "an empty label is not a subdomain"),
    .init(subdomains, "https://a..example.com", nil, "empty labels inside are refused"),
    .init(subdomains, "https://evilexample.com", nil, "the domain must start at a label boundary"),
    .init(subdomains, "https://a.example.com.evil.test", nil, "the domain must end the host"),
    .init(subdomains, "http://a.example.com", nil, "the scheme must match"),
    .init(subdomains, "https://a.example.com:8443", nil, "the port must match"),
    .init(subdomains, "https://a/b.example.com", nil, "labels hold no slash"),
    .init(subdomains, "http://api.dev.test:8080", echoed("http://api.dev.test:8080"), "wildcard with a port"),
    .init(subdomains, "http://api.dev.test", nil, "wildcard with a port needs that port"),
    // `https://*`.
    .init(anyHTTPS, "https://whatever.io:444", echoed("https://whatever.io:444"), "any https origin"),
    .init(anyHTTPS, "https://[::1]:8443", echoed("https://[::1]:8443"), "any https origin, IPv6 host"),
    .init(anyHTTPS, "http://whatever.io", nil, "not https"),
    .init(anyHTTPS, "https://", nil, "nothing after the scheme"),
    .init(anyHTTPS, "https://host/path", nil, "not an origin"),
    .init(anyHTTPS, "https://host\r\nx-evil: 1", nil, "no header injection through an echoed origin"),
    // `null` listed, default ports, empty list.
    .init(nullOrigin, "null", echoed("null"), "`null` listed explicitly"),
    .init(nullOrigin, "https://a.test", nil, "only `null`"),
    .init(defaultPorts, "https://example.com", echoed("https://example.com"), "configured :443 is the default port"),
    .init(defaultPorts, "https://example.com:443", nil, "browsers never send a default port"),
    .init(defaultPorts, "http://example.org", echoed("http://example.org"), "configured :80 is the default port"),
    .init(defaultPorts, "https://example.net:8443", echoed("https://example.net:8443"), "other ports are kept"),
    .init(defaultPorts, "https://example.net", nil, "the port is part of the origin"),
    .init(noOrigins, "https://a.test", nil, "no allowOrigins admits nothing"),
]

private enum Preflight: Equatable {
    case notPreflight
    case refuse
    case allow(String)
}

private struct PreflightRow {
    let spec: CorsSpec
    let origin: String
    let method: String?
    let headers: String?
    let expected: Preflight
    let why: String
    let line: UInt

    init(_ spec: CorsSpec, _ origin: String, _ method: String?, _ headers: String?, _ expected: Preflight,
         _ why: String, line: UInt = #line) {
        self.spec = spec
        self.origin = origin
        self.method = method
        self.headers = headers
        self.expected = expected
        self.why = why
        self.line = line
    }
}

private let exactAnswer = Preflight.allow(echoed(
    "https://app.example.com", "access-control-allow-methods: GET,PUT,DELETE",
    "access-control-allow-headers: content-type,x-api-key", "access-control-max-age: 300"))
private let anyAnswer = Preflight.allow(lines(
    "access-control-allow-origin: *|access-control-allow-methods: GET,POST|access-control-allow-headers: *|access-control-max-age: 0"))

private let preflightRows: [PreflightRow] = [
    .init(exact, "https://app.example.com", "PUT", "content-type, x-api-key", exactAnswer, "everything allowed"),
    .init(exact, "https://app.example.com", "PUT", nil, exactAnswer, "no requested headers"),
    .init(exact, "https://app.example.com", "PUT", "", exactAnswer, "an empty header list"),
    .init(exact, "https://app.example.com", "PUT", "X-API-KEY,,  Content-Type ", exactAnswer, "header names ignore case; empty items skipped"),
    .init(exact, "https://app.example.com", "DELETE", nil, exactAnswer, "methods compare ignoring case (configured `delete`)"),
    .init(exact, "https://app.example.com", "POST", nil, exactAnswer, "POST is CORS-safelisted"),
    .init(exact, "https://app.example.com", "HEAD", nil, exactAnswer, "HEAD is CORS-safelisted"),
    .init(exact, "https://app.example.com", "PATCH", nil, .refuse, "method not allowed"),
    .init(exact, "https://app.example.com", "PUT", "content-type, authorization", .refuse, "one header not allowed"),
    .init(exact, "https://evil.test", "PUT", nil, .refuse, "origin not allowed"),
    .init(exact, "https://app.example.com", nil, nil, .notPreflight, "no Access-Control-Request-Method"),
    .init(exact, "https://app.example.com", " ", nil, .notPreflight, "an empty Access-Control-Request-Method"),
    .init(exact, "", "PUT", nil, .notPreflight, "no Origin"),
    .init(credentialed, "https://app.example.com", "PATCH", "authorization, x-anything",
          .allow(echoed("https://app.example.com", "access-control-allow-credentials: true",
                        "access-control-allow-methods: *", "access-control-allow-headers: authorization,*")),
          "credentials: echoed origin, `*` lists sent literally"),
    .init(credentialed, "https://evil.test", "GET", nil, .refuse, "credentials, origin not allowed"),
    .init(anyOrigin, "https://x.test", "POST", "x-foo, x-bar", anyAnswer, "`*` origin and headers, maxAge 0"),
    .init(anyOrigin, "null", "GET", nil, anyAnswer, "`*` admits the opaque origin"),
    .init(anyOrigin, "https://x.test", "DELETE", nil, .refuse, "`*` origin, method not allowed"),
    .init(subdomains, "https://a.b.example.com", "PUT", nil,
          .allow(echoed("https://a.b.example.com", "access-control-allow-methods: PUT")), "wildcard subdomain, two labels"),
    .init(subdomains, "https://example.com", "PUT", nil, .refuse, "wildcard subdomain, bare domain"),
    .init(noOrigins, "https://a.test", "GET", nil, .refuse, "no allowOrigins"),
    .init(noCachingAge, "https://a.test", "GET", "x-anything", .refuse, "no allowHeaders admits no requested header"),
    .init(noCachingAge, "https://a.test", "GET", nil, .allow(echoed("https://a.test", "access-control-max-age: -1")),
          "maxAge -1 is sent as configured"),
]

final class CorsPolicyTests: XCTestCase {
    func testActualResponseHeadersFollowTheDecisionTable() throws {
        for row in responseRows {
            let policy = try CorsPolicy(row.spec)
            var out = Array("prefix\r\n".utf8)
            let added = withBytes(row.origin) { policy.responseHeaders(origin: $0!, into: &out) }
            let appended = String(decoding: out.dropFirst(8), as: UTF8.self)
            XCTAssertEqual(added, row.expected != nil, row.why, line: row.line)
            XCTAssertEqual(appended, row.expected ?? "", row.why, line: row.line)
        }
    }

    func testPreflightAnswersFollowTheDecisionTable() throws {
        for row in preflightRows {
            let policy = try CorsPolicy(row.spec)
            let decision = withBytes(row.origin) { origin in
                withBytes(row.method) { method in
                    withBytes(row.headers) { headers in
                        policy.preflight(origin: origin!, requestMethod: method, requestHeaders: headers)
                    }
                }
            }
            let rendered: Preflight
            switch decision {
            case .notPreflight: rendered = .notPreflight
            case .refuse: rendered = .refuse
            case .allow(let answer):
                var out: [UInt8] = []
                withBytes(row.origin) { answer.write(origin: $0!, into: &out) }
                rendered = .allow(String(decoding: out, as: UTF8.self))
            }
            XCTAssertEqual(rendered, row.expected, row.why, line: row.line)
        }
        XCTAssertEqual(PreflightDecision.status, 204)
    }

    func testPreflightAnswerForWildcardOriginIsPrecomputedWhole() throws {
        let policy = try CorsPolicy(anyOrigin)
        XCTAssertFalse(policy.preflightAnswer.echoesOrigin)
        XCTAssertFalse(policy.variesByOrigin)
        let decision = withBytes("https://x.test") { origin in
            withBytes("GET") { policy.preflight(origin: origin!, requestMethod: $0, requestHeaders: nil) }
        }
        guard case .allow(let answer) = decision else { return XCTFail("expected an answer") }
        XCTAssertEqual(answer, policy.preflightAnswer)
        XCTAssertEqual(String(decoding: answer.lines, as: UTF8.self), lines(
            "access-control-allow-origin: *|access-control-allow-methods: GET,POST|access-control-allow-headers: *|access-control-max-age: 0"))
    }

    func testEchoingPolicyVariesByOrigin() throws {
        XCTAssertTrue(try CorsPolicy(exact).variesByOrigin)
        XCTAssertTrue(try CorsPolicy(exact).preflightAnswer.echoesOrigin)
    }

    func testBackendCorsHeadersAreRecognisedIgnoringCase() {
        let rows: [(String, Bool)] = [
            ("access-control-allow-origin", true), ("Access-Control-Allow-Origin", true),
            ("ACCESS-CONTROL-ALLOW-CREDENTIALS", true), ("access-control-allow-methods", true),
            ("access-control-allow-headers", true), ("access-control-expose-headers", true),
            ("access-control-max-age", true), ("access-control-request-method", false),
            ("access-control-", false), ("access-control-allow-origins", false),
            ("x-access-control-allow-origin", false), ("vary", false), ("", false),
        ]
        for (name, expected) in rows {
            XCTAssertEqual(withBytes(name) { CorsPolicy.isCorsResponseHeader($0!) }, expected, name)
        }
    }
}
