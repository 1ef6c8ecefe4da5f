import CTurnpikeShim
import Foundation
import XCTest
@testable import TurnpikeAuth

/// Pins JWKS loading over HTTP from a real loopback server: background fetch,
/// discovery, rotation through a rate-limited refetch on an unknown kid, and the
/// shim's tp_fetch framing and failure modes.
final class JWKSFetchTests: XCTestCase {
    var server: LocalHTTPServer!

    override func setUp() {
        server = LocalHTTPServer.start()
    }

    override func tearDown() {
        server.stop()
    }

    private func fetch(_ url: String, ca: String? = nil, timeout: UInt32 = 2000) -> (Int32, UInt16, [UInt8]) {
        var status: UInt16 = 0
        var body: UnsafeMutablePointer<UInt8>?
        var len = 0
        let r = tp_fetch(url, ca, timeout, &status, &body, &len)
        defer { tp_fetch_free(body) }
        return (r, status, body.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? [])
    }

    func testJWKSURLIsFetchedInTheBackgroundAndUsed() throws {
        server.set("/jwks", body: Fixture.data("test-only-jwks.json"))
        let authorizer = try JWTAuthorizer(spec: Fixture.spec(.url(server.baseURL + "/jwks")))
        defer { authorizer.shutdown() }
        XCTAssertTrue(eventually { authorizer.keyCount == 5 })
        XCTAssertAccepted(authorizer.verify(Fixture.token("valid_EdDSA")))
    }

    func testTokensAreRefusedUntilKeysArrive() throws {
        let authorizer = try JWTAuthorizer(spec: Fixture.spec(.url(server.baseURL + "/missing")))
        defer { authorizer.shutdown() }
        XCTAssertTrue(eventually { server.hits("/missing") >= 1 })
        XCTAssertRefused(authorizer.verify(Fixture.token("valid_RS256")), .keysUnavailable)
        XCTAssertEqual(authorizer.refreshKeys(), .failure(.badStatus(url: server.baseURL + "/missing", status: 404)))
    }

    func testUnknownKidTriggersARateLimitedRefetchThatPicksUpARotatedKey() throws {
        server.set("/jwks", body: Fixture.data("test-only-jwks-single-key.json"))
        var spec = Fixture.spec(.url(server.baseURL + "/jwks"))
        spec.unknownKidRefetchMinSeconds = 10
        let authorizer = try JWTAuthorizer(spec: spec)
        defer { authorizer.shutdown() }
        XCTAssertTrue(eventually { authorizer.keyCount == 1 })
        XCTAssertEqual(server.hits("/jwks"), 1)

        let rotated = Fixture.token("rotated_rsa_2")
        XCTAssertRefused(authorizer.verify(rotated), .unknownKeyId)
        XCTAssertTrue(eventually { server.hits("/jwks") == 2 })

        // The provider rotates; within the rate limit nobody fetches again.
        server.set("/jwks", body: Fixture.data("test-only-jwks-rotated.json"))
        XCTAssertRefused(authorizer.verify(rotated, now: Fixture.now + 9), .unknownKeyId)
        usleep(200_000)
        XCTAssertEqual(server.hits("/jwks"), 2)

        XCTAssertRefused(authorizer.verify(rotated, now: Fixture.now + 10), .unknownKeyId)
        XCTAssertTrue(eventually { authorizer.keyCount == 2 })
        XCTAssertAccepted(authorizer.verify(rotated, now: Fixture.now + 10))
        XCTAssertAccepted(authorizer.verify(Fixture.token("valid_RS256"), now: Fixture.now + 10))
    }

    func testDiscoveryDocumentLeadsToTheJWKS() throws {
        let issuer = server.baseURL
        server.set("/.well-known/openid-configuration",
                   body: Data(#"{"issuer":"\#(issuer)","jwks_uri":"\#(issuer)/keys"}"#.utf8))
        server.set("/keys", body: Fixture.data("test-only-jwks.json"), chunked: true)
        let spec = JWTAuthorizerSpec(name: "d", issuer: issuer, audiences: [Fixture.audience], jwksSource: .discovery)
        let authorizer = try JWTAuthorizer(spec: spec)
        defer { authorizer.shutdown() }
        XCTAssertEqual(authorizer.refreshKeys(), .success(5))
        // The fixture tokens name another issuer: the signature passes, iss does not.
        XCTAssertRefused(authorizer.verify(Fixture.token("valid_PS256")), .invalidIssuer)
    }

    func testDiscoveryDocumentForAnotherIssuerIsRejected() throws {
        server.set("/.well-known/openid-configuration",
                   body: Data(#"{"issuer":"https://elsewhere","jwks_uri":"\#(server.baseURL)/keys"}"#.utf8))
        let spec = JWTAuthorizerSpec(name: "d", issuer: server.baseURL + "/", audiences: [], jwksSource: .discovery)
        let authorizer = try JWTAuthorizer(spec: spec)
        defer { authorizer.shutdown() }
        guard case .failure(.badDiscoveryDocument) = authorizer.refreshKeys() else {
            return XCTFail("accepted a discovery document for another issuer")
        }
        XCTAssertEqual(authorizer.keyCount, 0)
    }

    func testFetchReadsContentLengthAndChunkedBodies() {
        let body = Array(String(repeating: "0123456789", count: 1000).utf8)
        server.set("/plain", LocalHTTPServer.Response(body: body))
        server.set("/chunked?x=1", LocalHTTPServer.Response(body: body, chunked: true))
        let plain = fetch(server.baseURL + "/plain")
        XCTAssertEqual(plain.0, 0)
        XCTAssertEqual(plain.1, 200)
        XCTAssertTrue(plain.2 == body)
        let chunked = fetch(server.baseURL + "/chunked?x=1#frag")
        XCTAssertEqual(chunked.0, 0)
        XCTAssertTrue(chunked.2 == body)
        XCTAssertEqual(server.hits("/chunked?x=1"), 1)
    }

    func testFetchReturnsNon200StatusesWithoutFollowingRedirects() {
        server.set("/moved", LocalHTTPServer.Response(status: 302, body: []))
        let r = fetch(server.baseURL + "/moved")
        XCTAssertEqual(r.0, 0)
        XCTAssertEqual(r.1, 302)
        XCTAssertEqual(fetch(server.baseURL + "/nothing").1, 404)
    }

    func testFetchRefusesBodiesOverOneMegabyte() {
        server.set("/big", LocalHTTPServer.Response(body: [UInt8](repeating: 0x41, count: Int(TP_FETCH_MAX_BODY) + 1)))
        server.set("/bigchunked", LocalHTTPServer.Response(body: [UInt8](repeating: 0x41, count: Int(TP_FETCH_MAX_BODY) + 1),
                                                           chunked: true))
        XCTAssertEqual(fetch(server.baseURL + "/big").0, TP_FETCH_TOO_LARGE.rawValue)
        XCTAssertEqual(fetch(server.baseURL + "/bigchunked").0, TP_FETCH_TOO_LARGE.rawValue)
        server.set("/max", LocalHTTPServer.Response(body: [UInt8](repeating: 0x41, count: Int(TP_FETCH_MAX_BODY))))
        XCTAssertEqual(fetch(server.baseURL + "/max").2.count, Int(TP_FETCH_MAX_BODY))
    }

    func testFetchTimesOut() {
        server.set("/slow", LocalHTTPServer.Response(body: [1], delayMilliseconds: 1500))
        let start = Date()
        XCTAssertEqual(fetch(server.baseURL + "/slow", timeout: 200).0, TP_FETCH_TIMEOUT.rawValue)
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0)
    }

    func testFetchRefusesBadURLsAndReportsConnectFailures() {
        for url in ["", "ftp://x/", "http://", "http://user@host/", "http://h:0/", "http://h:99999/", "http://a b/",
                    "http://[::1/", "https://[nothex]/"] {
            XCTAssertEqual(fetch(url).0, TP_FETCH_BAD_URL.rawValue, url)
        }
        let closed = LocalHTTPServer.start()
        let port = closed.port
        closed.stop()
        XCTAssertEqual(fetch("http://127.0.0.1:\(port)/").0, TP_FETCH_CONNECT.rawValue)
        XCTAssertEqual(String(cString: tp_fetch_error_string(TP_FETCH_CONNECT.rawValue)), "connection refused or unreachable")
    }

    func testHTTPSToAPlainHTTPServerFailsTheHandshake() {
        server.set("/jwks", body: Fixture.data("test-only-jwks.json"))
        XCTAssertEqual(fetch("https://127.0.0.1:\(server.port)/jwks").0, TP_FETCH_TLS.rawValue)
    }
}

/// Pins tp_fetch's https path against a real TLS server (`openssl s_server`) with a
/// throwaway certificate made for the test: the chain and the host name are checked.
final class HTTPSFetchTests: XCTestCase {
    private var directory: URL!
    private var server: Process?
    private var port: UInt16 = 0

    private func run(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.currentDirectoryURL = directory
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
    }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tp-https-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", "key.pem", "-out", "cert.pem", "-days", "1", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=DNS:localhost"])
        try Fixture.data("test-only-jwks.json").write(to: directory.appendingPathComponent("jwks.json"))
        let probe = LocalHTTPServer.start()
        port = probe.port
        probe.stop()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl", "s_server", "-quiet", "-accept", "127.0.0.1:\(port)", "-cert", "cert.pem",
                       "-key", "key.pem", "-WWW"]
        p.currentDirectoryURL = directory
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        server = p
        _ = eventually(10) {  // s_server may start slowly on a loaded machine
            var s: UInt16 = 0
            var b: UnsafeMutablePointer<UInt8>?
            var n = 0
            let r = tp_fetch("http://127.0.0.1:\(port)/", nil, 200, &s, &b, &n)
            tp_fetch_free(b)
            return r != TP_FETCH_CONNECT.rawValue
        }
    }

    override func tearDown() {
        server?.terminate()
        server?.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    private func fetch(_ url: String, ca: String?) -> (Int32, UInt16, [UInt8]) {
        var status: UInt16 = 0
        var body: UnsafeMutablePointer<UInt8>?
        var len = 0
        let r = tp_fetch(url, ca, 3000, &status, &body, &len)
        defer { tp_fetch_free(body) }
        return (r, status, body.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? [])
    }

    func testHTTPSFetchVerifiesTheChainAndHostName() {
        let ca = directory.appendingPathComponent("cert.pem").path
        let ok = fetch("https://localhost:\(port)/jwks.json", ca: ca)
        XCTAssertEqual(ok.0, 0)
        XCTAssertEqual(ok.1, 200)
        XCTAssertTrue(ok.2 == Array(Fixture.data("test-only-jwks.json")))
        // Not in the system trust store.
        XCTAssertEqual(fetch("https://localhost:\(port)/jwks.json", ca: nil).0, TP_FETCH_TLS.rawValue)
        // The certificate names localhost, not 127.0.0.1.
        XCTAssertEqual(fetch("https://127.0.0.1:\(port)/jwks.json", ca: ca).0, TP_FETCH_TLS.rawValue)
    }
}
