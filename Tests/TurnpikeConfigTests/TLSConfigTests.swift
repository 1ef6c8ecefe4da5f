import Foundation
import XCTest
import TurnpikeConfig

/// A temporary folder holding a config file and dummy PEM files (config loading checks existence only).
final class TLSFolder {
    let path: String

    init(files: [String] = []) throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("turnpike-tls-\(UUID().uuidString)").standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for file in files { try add(file) }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes a dummy PEM file at `relative` (folders made as needed).
    func add(_ relative: String, _ text: String = "-----BEGIN DUMMY-----\n-----END DUMMY-----\n") throws {
        let file = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
    }

    /// Writes `yaml` as turnpike.yaml here and loads it.
    func load(_ yaml: String) throws(ConfigError) -> GatewayConfig {
        let file = path + "/turnpike.yaml"
        try? yaml.write(toFile: file, atomically: true, encoding: .utf8)
        return try ConfigLoader.load(path: file)
    }

    /// Loads `yaml` expecting issues; returns them as printed lines, this folder's path written as `$DIR`.
    func issues(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try load(yaml)
            XCTFail("expected issues", file: file, line: line)
            return []
        } catch {
            return error.issues.map { $0.description.replacingOccurrences(of: path, with: "$DIR") }
        }
    }

    /// Loads `yaml` expecting success.
    func config(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> GatewayConfig? {
        do {
            return try load(yaml)
        } catch {
            XCTFail("unexpected issues:\n\(error)", file: file, line: line)
            return nil
        }
    }
}

/// `minimalConfig` with its listener replaced by `listeners` (a YAML list body) and `domains` appended.
func tlsConfig(listeners: String, domains: String = "") -> String {
    let base = minimalConfig.replacingOccurrences(of: "listeners:\n  - name: public\n    port: 8080", with: "listeners:\n" + listeners)
    return domains.isEmpty ? base : base + "\ndomainNames:\n" + domains
}

/// One domain name entry mapping the minimal config's api, with `extra` lines (indented 4) before the mappings.
func domain(_ name: String, _ extra: String = "") -> String {
    "  - domainName: \"\(name)\"\n" + extra
        + "    apiMappings: [{ apiMappingKey: \"\", api: shop, stage: $default }]\n"
}

final class TLSConfigTests: XCTestCase {
    func testHttpsListenerWithItsOwnCertificateResolvesPathsAgainstTheConfigFolderAndTakesDefaults() throws {
        let folder = try TLSFolder(files: ["certs/default.pem", "keys/default.key"])
        let config = try XCTUnwrap(folder.config(tlsConfig(listeners: """
              - name: public
                port: 8443
                protocol: HTTPS
                certificate: { chain: ./certs/default.pem, key: "file://keys/../keys/default.key" }
              - { name: plain, port: 8080, protocol: HTTP }
            """)))
        XCTAssertEqual(config.listeners, [
            Listener(
                name: "public", host: "127.0.0.1", port: 8443, protocolType: .https, admin: false, defaultApi: nil,
                certificate: TLSCertificate(chainPath: folder.path + "/certs/default.pem", keyPath: folder.path + "/keys/default.key"),
                unknownServerName: .refuse, minimumTlsVersion: .tls12),
            Listener(name: "plain", host: "127.0.0.1", port: 8080, protocolType: .http, admin: false, defaultApi: nil),
        ])
        XCTAssertEqual(config.listeners[1].certificate, nil)
        XCTAssertEqual(config.listeners[1].unknownServerName, .refuse)
        XCTAssertEqual(config.listeners[1].minimumTlsVersion, .tls12)
    }

    func testListenerPoliciesAreRead() throws {
        let folder = try TLSFolder(files: ["d.pem", "d.key"])
        let config = try XCTUnwrap(folder.config(tlsConfig(listeners: """
              - name: public
                port: 8443
                protocol: HTTPS
                certificate: { chain: d.pem, key: \(folder.path)/d.key }
                unknownServerName: DEFAULT
                minimumTlsVersion: TLS_1_3
            """)))
        XCTAssertEqual(config.listeners[0].certificate, TLSCertificate(
            chainPath: folder.path + "/d.pem", keyPath: folder.path + "/d.key"))
        XCTAssertEqual(config.listeners[0].unknownServerName, .defaultCertificate)
        XCTAssertEqual(config.listeners[0].minimumTlsVersion, .tls13)
        XCTAssertEqual(ListenerProtocol(rawValue: "HTTPS"), .https)
    }

    func testDomainCertificatesWildcardsAndTruststoresInEverySpelling() throws {
        let folder = try TLSFolder(files: ["certs/api.pem", "certs/api.key", "certs/wild.pem", "certs/wild.key", "ca/clients.pem"])
        let config = try XCTUnwrap(folder.config(tlsConfig(
            listeners: "  - { name: tls, port: 8443, protocol: HTTPS }\n  - { name: plain, port: 8080 }",
            domains: domain("API.example.com", """
                    certificate: { chain: certs/api.pem, key: ./certs/api.key }
                    securityPolicy: TLS_1_2
                    mutualTlsAuthentication: { truststoreUri: ./ca/clients.pem }

                """)
                + domain("*.apps.example.com", """
                    certificate: { chain: "file://\(folder.path)/certs/wild.pem", key: certs/wild.key }
                    mutualTlsAuthentication: { truststore: "file://ca/clients.pem" }

                """)
                + domain("partners.example.com", """
                    certificate: { chain: certs/api.pem, key: certs/api.key }
                    mutualTlsAuthentication: { truststoreUri: "file://\(folder.path)/ca/clients.pem" }

                """)
                + domain("plain.example.com"))))
        let api = TLSCertificate(chainPath: folder.path + "/certs/api.pem", keyPath: folder.path + "/certs/api.key")
        let wild = TLSCertificate(chainPath: folder.path + "/certs/wild.pem", keyPath: folder.path + "/certs/wild.key")
        let truststore = folder.path + "/ca/clients.pem"
        let mappings = [ApiMapping(key: "", apiName: "shop", stageName: "$default")]
        XCTAssertEqual(config.domainNames, [
            DomainName(name: "api.example.com", mappings: mappings, certificate: api, truststorePath: truststore),
            DomainName(name: "*.apps.example.com", mappings: mappings, certificate: wild, truststorePath: truststore),
            DomainName(name: "partners.example.com", mappings: mappings, certificate: api, truststorePath: truststore),
            DomainName(name: "plain.example.com", mappings: mappings),
        ])
        XCTAssertNil(config.domainNames[3].certificate)
        XCTAssertNil(config.domainNames[3].truststorePath)
        // The HTTPS listener has no certificate of its own: the domains' serve it.
        XCTAssertNil(config.listeners[0].certificate)
        XCTAssertEqual(config.listeners[0].protocolType, .https)
    }

    func testPathsOfParsedTextAreMadeAbsoluteAgainstTheCurrentFolder() throws {
        let folder = try TLSFolder(files: ["a.pem", "a.key"])
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(folder.path))
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        let config = try XCTUnwrap(parsed(tlsConfig(listeners: """
              - { name: tls, port: 8443, protocol: HTTPS, certificate: { chain: a.pem, key: ./a.key } }
            """)))
        XCTAssertEqual(config.listeners[0].certificate, TLSCertificate(
            chainPath: folder.path + "/a.pem", keyPath: folder.path + "/a.key"))
    }

    func testMissingOrUnreadableFilesAreNamedWithTheirResolvedPaths() throws {
        let folder = try TLSFolder(files: ["ok.pem", "ok.key"])
        try FileManager.default.createDirectory(atPath: folder.path + "/certs", withIntermediateDirectories: true)
        let lines = folder.issues(tlsConfig(
            listeners: """
              - name: tls
                port: 8443
                protocol: HTTPS
                certificate: { chain: ./missing.pem, key: certs }
            """,
            domains: domain("api.example.com", """
                    certificate: { chain: ok.pem, key: ../elsewhere/ok.key }
                    mutualTlsAuthentication: { truststoreUri: file://clients.pem }

                """)))
        XCTAssertEqual(lines, [
            #"$DIR/turnpike.yaml:5:27: listeners[0].certificate.chain: cannot read "$DIR/missing.pem": no such file"#,
            #"$DIR/turnpike.yaml:5:47: listeners[0].certificate.key: cannot read "$DIR/certs": it is a folder, not a file"#,
            "$DIR/turnpike.yaml:19:40: domainNames[0].certificate.key: cannot read \"\((folder.path as NSString).deletingLastPathComponent)/elsewhere/ok.key\": no such file",
            #"$DIR/turnpike.yaml:20:47: domainNames[0].mutualTlsAuthentication.truststoreUri: cannot read "$DIR/clients.pem": no such file"#,
        ])
    }

    func testCertificateObjectNeedsBothPathsAndNothingElse() throws {
        let folder = try TLSFolder(files: ["c.pem"])
        XCTAssertEqual(folder.issues(tlsConfig(listeners: """
              - name: tls
                port: 8443
                protocol: HTTPS
                certificate: { chain: c.pem, password: x }
              - name: tls2
                port: 8444
                protocol: HTTPS
                certificate: c.pem
              - name: tls3
                port: 8445
                protocol: HTTPS
                certificate: { chain: "", key: c.pem }
            """)), [
            #"$DIR/turnpike.yaml:5:18: listeners[0].certificate.key: missing required key "key""#,
            #"$DIR/turnpike.yaml:5:34: listeners[0].certificate.password: unknown key "password" (expected one of: chain, key, ocspStaple)"#,
            #"$DIR/turnpike.yaml:9:18: listeners[1].certificate: expected a mapping, got "c.pem""#,
            #"$DIR/turnpike.yaml:13:27: listeners[2].certificate.chain: must not be empty"#,
        ])
    }

    func testUnknownPolicyValuesAndTlsVersionsBelowOneTwoAreRefused() throws {
        let folder = try TLSFolder(files: ["c.pem", "c.key"])
        XCTAssertEqual(folder.issues(tlsConfig(
            listeners: """
              - name: a
                port: 8443
                protocol: HTTPS
                certificate: { chain: c.pem, key: c.key }
                unknownServerName: IGNORE
                minimumTlsVersion: TLS_1_1
              - { name: b, port: 8444, protocol: HTTPS, minimumTlsVersion: "1.3" }
              - { name: c, port: 8445, protocol: HTTPS2 }
            """,
            domains: domain("a.example.com", "    certificate: { chain: c.pem, key: c.key }\n    securityPolicy: TLS_1_0\n")
                + domain("b.example.com", "    certificate: { chain: c.pem, key: c.key }\n    securityPolicy: TLS_1_3\n"))), [
            #"$DIR/turnpike.yaml:6:24: listeners[0].unknownServerName: unknown unknownServerName "IGNORE" (expected "REFUSE", "DEFAULT")"#,
            #"$DIR/turnpike.yaml:7:24: listeners[0].minimumTlsVersion: minimumTlsVersion "TLS_1_1" is not accepted: Turnpike's minimum is TLS 1.2 (use "TLS_1_2")"#,
            #"$DIR/turnpike.yaml:8:64: listeners[1].minimumTlsVersion: unknown minimumTlsVersion "1.3" (expected "TLS_1_2", "TLS_1_3")"#,
            #"$DIR/turnpike.yaml:9:38: listeners[2].protocol: unknown protocol "HTTPS2" (expected "HTTP", "HTTPS")"#,
            #"$DIR/turnpike.yaml:24:21: domainNames[0].securityPolicy: securityPolicy "TLS_1_0" is not accepted: Turnpike's minimum is TLS 1.2 (use "TLS_1_2")"#,
            #"$DIR/turnpike.yaml:28:21: domainNames[1].securityPolicy: unknown securityPolicy "TLS_1_3" (expected "TLS_1_2"; minimumTlsVersion: TLS_1_3 on a listener requires TLS 1.3)"#,
        ])
    }

    func testHttpsListenerWithoutAnyCertificateIsAnError() throws {
        // A domain name without a certificate does not count: it is served on HTTP listeners only.
        XCTAssertEqual(issueLines(tlsConfig(
            listeners: "  - { name: tls, port: 8443, protocol: HTTPS }",
            domains: domain("api.example.com"))), [
            #"t.yaml:2:40: listeners[0].protocol: an HTTPS listener needs a certificate: give the listener one (certificate: { chain: PATH, key: PATH }) or give a domain name one"#,
        ])
    }

    func testDefaultForUnknownNamesNeedsTheListenersCertificate() throws {
        let folder = try TLSFolder(files: ["c.pem", "c.key"])
        XCTAssertEqual(folder.issues(tlsConfig(
            listeners: "  - { name: tls, port: 8443, protocol: HTTPS, unknownServerName: DEFAULT }",
            domains: domain("api.example.com", "    certificate: { chain: c.pem, key: c.key }\n"))), [
            #"$DIR/turnpike.yaml:2:66: listeners[0].unknownServerName: unknownServerName "DEFAULT" serves the listener's own certificate; add certificate: { chain: PATH, key: PATH } to the listener"#,
        ])
    }

    func testTlsKeysOnACleartextListenerAndHttpsOnTheAdminListenerAreReported() throws {
        let folder = try TLSFolder(files: ["c.pem", "c.key"])
        XCTAssertEqual(folder.issues(tlsConfig(listeners: """
              - name: plain
                port: 8080
                certificate: { chain: c.pem, key: c.key }
                unknownServerName: DEFAULT
                minimumTlsVersion: TLS_1_3
              - { name: admin, port: 9901, admin: true, protocol: HTTPS, certificate: { chain: c.pem, key: c.key } }
            """)), [
            #"$DIR/turnpike.yaml:4:5: listeners[0].certificate: "certificate" applies to HTTPS listeners only (add protocol: HTTPS)"#,
            #"$DIR/turnpike.yaml:5:5: listeners[0].unknownServerName: "unknownServerName" applies to HTTPS listeners only (add protocol: HTTPS)"#,
            #"$DIR/turnpike.yaml:6:5: listeners[0].minimumTlsVersion: "minimumTlsVersion" applies to HTTPS listeners only (add protocol: HTTPS)"#,
            #"$DIR/turnpike.yaml:7:55: listeners[1].protocol: protocol "HTTPS" on an admin listener is not supported yet"#,
        ])
    }

    func testMutualTlsRules() throws {
        let folder = try TLSFolder(files: ["c.pem", "c.key", "ca.pem"])
        let cert = "    certificate: { chain: c.pem, key: c.key }\n"
        XCTAssertEqual(folder.issues(tlsConfig(
            listeners: "  - { name: tls, port: 8443, protocol: HTTPS }",
            domains: domain("a.example.com", cert + "    mutualTlsAuthentication: { truststoreUri: ca.pem, truststore: ca.pem }\n")
                + domain("b.example.com", cert + "    mutualTlsAuthentication: { truststoreUri: \"s3://bucket/ca.pem\" }\n")
                + domain("c.example.com", "    mutualTlsAuthentication: { truststore: ca.pem }\n")
                + domain("d.example.com", cert + "    mutualTlsAuthentication: { truststoreUri: ca.pem, truststoreVersion: \"3\" }\n")
                + domain("e.example.com", cert + "    mutualTlsAuthentication: {}\n")
                + domain("f.example.com", cert + "    mutualTlsAuthentication: { truststoreUri: ca.pem, trustStore: ca.pem }\n"))), [
            #"$DIR/turnpike.yaml:17:55: domainNames[0].mutualTlsAuthentication.truststore: give either truststoreUri or truststore (the same setting), not both"#,
            #"$DIR/turnpike.yaml:21:47: domainNames[1].mutualTlsAuthentication.truststoreUri: a truststore is a local PEM file (a path or file://PATH); s3:// is not supported, got "s3://bucket/ca.pem""#,
            #"$DIR/turnpike.yaml:24:5: domainNames[2].mutualTlsAuthentication: mutual TLS needs the domain's own certificate; add certificate: { chain: PATH, key: PATH }"#,
            #"$DIR/turnpike.yaml:28:55: domainNames[3].mutualTlsAuthentication.truststoreVersion: truststoreVersion names an S3 object version; Turnpike reads a local file (remove it)"#,
            #"$DIR/turnpike.yaml:32:30: domainNames[4].mutualTlsAuthentication.truststoreUri: missing required key "truststoreUri""#,
            #"$DIR/turnpike.yaml:36:55: domainNames[5].mutualTlsAuthentication.trustStore: unknown key "trustStore" (did you mean "truststore"?)"#,
        ])
    }

    func testBundledTlsExampleLoadsWhenItsCertificatesExist() throws {
        let source = repositoryRoot.appendingPathComponent("examples/tls.yaml").path
        let yaml = try String(contentsOfFile: source, encoding: .utf8)
        let folder = try TLSFolder()
        // Without the files (examples/make-dev-certs.sh makes them), every one is named.
        let missing = folder.issues(yaml)
        XCTAssertEqual(missing.count, 9, missing.joined(separator: "\n"))
        XCTAssertTrue(missing.allSatisfy { $0.hasSuffix(": no such file") && $0.contains("\"$DIR/certs/") }, missing.joined(separator: "\n"))

        let files = ["default", "api.localhost", "wildcard.apps.localhost"].flatMap { ["certs/\($0).pem", "certs/\($0).key"] }
        for file in files + ["certs/clients-ca.pem"] { try folder.add(file) }
        let config = try folder.load(yaml)
        let certs = folder.path + "/certs/"
        func certificate(_ name: String) -> TLSCertificate {
            TLSCertificate(chainPath: certs + name + ".pem", keyPath: certs + name + ".key")
        }
        XCTAssertEqual(config.listeners, [
            Listener(
                name: "public-https", host: "127.0.0.1", port: 8443, protocolType: .https, admin: false, defaultApi: nil,
                certificate: certificate("default"), unknownServerName: .refuse, minimumTlsVersion: .tls12),
            Listener(name: "admin", host: "127.0.0.1", port: 9901, protocolType: .http, admin: true, defaultApi: nil),
        ])
        XCTAssertEqual(config.domainNames.map(\.name), ["api.localhost", "*.apps.localhost", "partners.apps.localhost"])
        XCTAssertEqual(config.domainNames.map(\.certificate), [
            certificate("api.localhost"), certificate("wildcard.apps.localhost"), certificate("wildcard.apps.localhost"),
        ])
        XCTAssertEqual(config.domainNames.map(\.truststorePath), [nil, nil, certs + "clients-ca.pem"])
        XCTAssertEqual(config.domainNames[2].mappings, [ApiMapping(key: "partners", apiName: "shop-api", stageName: "$default")])
    }

    func testSharedExampleTlsPartsLoadWhenTheirFilesExist() throws {
        let folder = try TLSFolder(files: ["certs/api.example.com.pem", "certs/api.example.com.key", "certs/clients-ca.pem"])
        // Only the parts unrelated to TLS remain as issues.
        let lines = folder.issues(SharedExample.text).map { $0.replacingOccurrences(of: "$DIR/turnpike.yaml:", with: "") }
        XCTAssertFalse(lines.contains { $0.contains("listeners") || $0.contains("domainNames") }, lines.joined(separator: "\n"))

        let subset = SharedExample.implementedSubset
            .replacingOccurrences(of: "  - name: public-http\n    port: 8080\n", with: """
                  - name: public-http
                    port: 8080
                  - name: public-https
                    port: 8443
                    protocol: HTTPS

                """)
            .replacingOccurrences(of: "  - domainName: api.example.com\n", with: """
                  - domainName: api.example.com
                    certificate: { chain: ./certs/api.example.com.pem, key: ./certs/api.example.com.key }
                    mutualTlsAuthentication: { truststore: ./certs/clients-ca.pem }

                """)
        let config = try XCTUnwrap(folder.config(subset))
        XCTAssertEqual(config.listeners.map(\.protocolType), [.http, .https, .http])
        XCTAssertNil(config.listeners[1].certificate)
        XCTAssertEqual(config.domainNames[0].certificate, TLSCertificate(
            chainPath: folder.path + "/certs/api.example.com.pem", keyPath: folder.path + "/certs/api.example.com.key"))
        XCTAssertEqual(config.domainNames[0].truststorePath, folder.path + "/certs/clients-ca.pem")
    }
}
