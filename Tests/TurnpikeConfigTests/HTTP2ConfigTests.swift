import XCTest
import TurnpikeConfig

/// `http2` on listeners and in settings, and `ocspStaple` on certificates.
final class HTTP2ConfigTests: XCTestCase {
    func testHttp2IsOnForHttpsListenersAndOffForCleartextOnesUnlessSaid() throws {
        let folder = try TLSFolder(files: ["c.pem", "c.key"])
        let config = try XCTUnwrap(folder.config(tlsConfig(listeners: """
              - { name: tls, port: 8443, protocol: HTTPS, certificate: { chain: c.pem, key: c.key } }
              - { name: tls-h1, port: 8444, protocol: HTTPS, http2: false, certificate: { chain: c.pem, key: c.key } }
              - { name: plain, port: 8080 }
              - { name: h2c, port: 8081, http2: true }
            """)))
        XCTAssertEqual(config.listeners.map(\.http2), [true, false, false, true])
        XCTAssertEqual(config.settings.http2, HTTP2Settings.defaults)
        XCTAssertEqual(HTTP2Settings.defaults, HTTP2Settings(maxConcurrentStreams: 128, initialWindowSize: 65535))
    }

    func testHttp2SettingsAreRead() throws {
        let config = try XCTUnwrap(TLSFolder().config(minimalConfig + """

            settings:
              http2: { maxConcurrentStreams: 64, initialWindowSize: 1048576 }
            """))
        XCTAssertEqual(config.settings.http2, HTTP2Settings(maxConcurrentStreams: 64, initialWindowSize: 1_048_576))
    }

    func testHttp2SettingsOutOfRangeAndUnknownKeysAreErrors() throws {
        let lines = issueLines(minimalConfig + """

            settings:
              http2: { maxConcurrentStreams: 0, initialWindowSize: 4294967295, pushEnabled: true }
            """)
        XCTAssertEqual(lines.count, 3, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("settings.http2.maxConcurrentStreams") }, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("settings.http2.initialWindowSize") }, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("pushEnabled") }, lines.joined(separator: "\n"))
    }

    func testHttp2MustBeABoolean() throws {
        let lines = issueLines(minimalConfig.replacingOccurrences(
            of: "listeners:\n  - name: public\n    port: 8080", with: "listeners:\n  - name: public\n    port: 8080\n    http2: maybe"))
        XCTAssertEqual(lines.count, 1, lines.joined(separator: "\n"))
        XCTAssertTrue(lines[0].contains("listeners[0].http2"), lines[0])
    }

    func testOcspStapleIsReadOnServerCertificatesAndMustExist() throws {
        let folder = try TLSFolder(files: ["c.pem", "c.key", "c.ocsp.der"])
        let config = try XCTUnwrap(folder.config(tlsConfig(
            listeners: "  - { name: tls, port: 8443, protocol: HTTPS }",
            domains: domain("api.example.com", "    certificate: { chain: c.pem, key: c.key, ocspStaple: c.ocsp.der }\n"))))
        XCTAssertEqual(config.domainNames[0].certificate?.ocspStaplePath, folder.path + "/c.ocsp.der")
        XCTAssertEqual(config.domainNames[0].certificate?.files,
                       [folder.path + "/c.pem", folder.path + "/c.key", folder.path + "/c.ocsp.der"])
        let lines = folder.issues(tlsConfig(
            listeners: "  - { name: tls, port: 8443, protocol: HTTPS }",
            domains: domain("api.example.com", "    certificate: { chain: c.pem, key: c.key, ocspStaple: missing.der }\n")))
        XCTAssertEqual(lines.count, 1, lines.joined(separator: "\n"))
        XCTAssertTrue(lines[0].contains("domainNames[0].certificate.ocspStaple"), lines[0])
    }
}
