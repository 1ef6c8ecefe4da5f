import Foundation
import XCTest
import TurnpikeConfig

/// `minimalConfig` with its integration URI replaced by `uri` and `groups` (a YAML list body) as its target groups.
func upstreamConfig(uri: String, groups: String) -> String {
    minimalConfig.replacingOccurrences(of: "http://127.0.0.1:9001/{proxy}", with: uri) + "\ntargetGroups:\n" + groups
}

/// Target group `protocol: HTTPS` and `tls`, and `https://` integration URIs (all extensions but the URI scheme).
final class UpstreamTLSConfigTests: XCTestCase {
    func testHttpsGroupWithATlsBlockResolvesItsFilesAndLowercasesTheServerName() throws {
        let folder = try TLSFolder(files: ["ca/internal.pem", "certs/gateway.pem", "certs/gateway.key"])
        let config = try XCTUnwrap(folder.config(upstreamConfig(uri: "https://orders/{proxy}", groups: """
              - name: orders
                protocol: HTTPS
                endpoints: ["10.0.0.5:8443", "[::1]:8443"]
                tls:
                  caBundle: ./ca/internal.pem
                  serverName: Orders.Internal.Example
                  clientCertificate: { chain: certs/gateway.pem, key: "file://certs/gateway.key" }
            """)))
        let group = try XCTUnwrap(config.targetGroups.first)
        XCTAssertTrue(group.isHTTPS)
        XCTAssertEqual(group.tls, UpstreamTLS(
            caBundlePath: folder.path + "/ca/internal.pem",
            serverName: "orders.internal.example",
            clientCertificate: TLSCertificate(
                chainPath: folder.path + "/certs/gateway.pem", keyPath: folder.path + "/certs/gateway.key")))
        XCTAssertEqual(group.endpoints, [Endpoint(host: "10.0.0.5", port: 8443), Endpoint(host: "::1", port: 8443)])
        let uri = config.apis[0].integrations[0].uri
        XCTAssertEqual(uri, IntegrationURI(
            text: "https://orders/{proxy}", upstream: .targetGroup("orders"),
            pathAndQuery: [.literal("/"), .pathParameter("proxy")], isHTTPS: true))
    }

    func testHttpsGroupWithoutTlsOrWithAnEmptyOneUsesTheSystemTrustStoreAndTheEndpointsHost() throws {
        let config = try XCTUnwrap(parsed(upstreamConfig(uri: "HTTPS://a", groups: """
              - { name: a, protocol: HTTPS, endpoints: ["10.0.0.5:443"] }
              - { name: b, protocol: HTTPS, endpoints: ["10.0.0.6:443"], tls: {} }
              - { name: c, protocol: HTTPS, endpoints: ["10.0.0.7:443"], tls: { serverName: svc.local, caBundle: null } }
            """)))
        XCTAssertEqual(config.targetGroups.map(\.isHTTPS), [true, true, true])
        XCTAssertEqual(config.targetGroups.map(\.tls), [nil, UpstreamTLS(), UpstreamTLS(serverName: "svc.local")])
        let defaults = UpstreamTLS()
        XCTAssertNil(defaults.caBundlePath)
        XCTAssertNil(defaults.serverName)
        XCTAssertNil(defaults.clientCertificate)
        XCTAssertEqual(config.apis[0].integrations[0].uri.upstream, .targetGroup("a"))
        XCTAssertTrue(config.apis[0].integrations[0].uri.isHTTPS)
    }

    func testGroupsAndUrisAreHttpByDefault() throws {
        let config = try XCTUnwrap(parsed(upstreamConfig(uri: "http://a/{proxy}", groups: """
              - { name: a, endpoints: ["127.0.0.1:9001"] }
              - { name: b, protocol: HTTP, endpoints: ["127.0.0.1:9002"] }
            """)))
        XCTAssertEqual(config.targetGroups.map(\.isHTTPS), [false, false])
        XCTAssertEqual(config.targetGroups.map(\.tls), [nil, nil])
        XCTAssertFalse(config.apis[0].integrations[0].uri.isHTTPS)
        // Models built in code take the same defaults.
        let group = TargetGroup(
            name: "g", endpoints: [], loadBalancing: .roundRobin, healthCheck: nil, maxConnectionsPerEndpoint: 1,
            maxIdleConnectionsPerEndpoint: 0, connectTimeoutMillis: 1, passiveEjection: nil)
        XCTAssertFalse(group.isHTTPS)
        XCTAssertNil(group.tls)
        XCTAssertFalse(IntegrationURI(text: "", upstream: .targetGroup("g"), pathAndQuery: []).isHTTPS)
        let fixed = try XCTUnwrap(parsed(minimalConfig)).apis[0].integrations[0].uri
        XCTAssertFalse(fixed.isHTTPS)
        XCTAssertEqual(fixed.upstream, .endpoint(Endpoint(host: "127.0.0.1", port: 9001)))
    }

    func testHttpsFixedEndpointsDefaultToPort443() throws {
        let config = try XCTUnwrap(parsed("""
            listeners: [{ name: public, port: 8080 }]
            apis:
              - name: shop
                integrations:
                  - { name: v4, integrationType: HTTP_PROXY, integrationUri: "https://10.1.2.3/v1/{proxy}" }
                  - { name: v6, integrationType: HTTP_PROXY, integrationUri: "https://[::1]:8443?x=${stageVariables.x}" }
                  - { name: local, integrationType: HTTP_PROXY, integrationUri: "https://localhost:9443" }
                routes: [{ routeKey: "ANY /{proxy+}", target: v4 }]
                stages: [{ stageName: $default }]
            """))
        let uris = config.apis[0].integrations.map(\.uri)
        XCTAssertEqual(uris.map(\.isHTTPS), [true, true, true])
        XCTAssertEqual(uris.map(\.upstream), [
            .endpoint(Endpoint(host: "10.1.2.3", port: 443)),
            .endpoint(Endpoint(host: "::1", port: 8443)),
            .endpoint(Endpoint(host: "127.0.0.1", port: 9443)),
        ])
        XCTAssertEqual(uris[0].pathAndQuery, [.literal("/v1/"), .pathParameter("proxy")])
        XCTAssertEqual(uris[1].pathAndQuery, [.literal("?x="), .stageVariable("x")])
        XCTAssertEqual(uris[2].pathAndQuery, [])
    }

    func testSchemeMustMatchTheGroupsProtocolBothWays() {
        XCTAssertEqual(issueLines(upstreamConfig(uri: "http://secure/{proxy}", groups: """
              - { name: secure, protocol: HTTPS, endpoints: ["10.0.0.5:443"] }
            """)), [
            #"t.yaml:9:25: apis[0].integrations[0].integrationUri: target group "secure" is HTTPS (protocol: HTTPS); write https://secure/{proxy}"#,
        ])
        XCTAssertEqual(issueLines(upstreamConfig(uri: "https://plain?a=b", groups: """
              - { name: plain, endpoints: ["10.0.0.5:80"] }
            """)), [
            #"t.yaml:9:25: apis[0].integrations[0].integrationUri: target group "plain" is HTTP; write http://plain?a=b, or give the group protocol: HTTPS"#,
        ])
    }

    func testDeploymentIntegrationsAreCheckedTheSameWay() {
        let yaml = upstreamConfig(uri: "https://secure/{proxy}", groups: """
              - { name: secure, protocol: HTTPS, endpoints: ["10.0.0.5:443"] }
            """).replacingOccurrences(of: "    stages:", with: """
                deployments:
                  - deploymentId: d1
                    integrations: [{ name: old, integrationType: HTTP_PROXY, integrationUri: "http://secure" }]
                    routes: [{ routeKey: $default, target: old }]
                stages:
            """)
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:15:82: apis[0].deployments[0].integrations[0].integrationUri: target group "secure" is HTTPS (protocol: HTTPS); write https://secure"#,
        ])
    }

    func testHttpsNeedsANumericHostOrAGroupAndNoStageVariablesInTheHost() {
        XCTAssertEqual(issueLines(upstreamConfig(uri: "https://api.example.com/{proxy}", groups: """
              - { name: other, protocol: HTTPS, endpoints: ["10.0.0.5:443"] }
            """)), [
            #"t.yaml:9:25: apis[0].integrations[0].integrationUri: host "api.example.com" names no target group and is not a numeric HOST:PORT (to verify an upstream by DNS name, declare a target group with protocol: HTTPS and tls: { serverName: NAME })"#,
        ])
        XCTAssertEqual(issueLines(minimalConfig.replacingOccurrences(
            of: "http://127.0.0.1:9001/{proxy}", with: "https://${stageVariables.host}:8443/{proxy}")), [
            #"t.yaml:9:25: apis[0].integrations[0].integrationUri: https:// integration URIs with stage variables in the host are not supported yet (name an HTTPS target group, or write a fixed HOST:PORT)"#,
        ])
        // http:// with stage variables in the host stays allowed.
        XCTAssertNotNil(parsed(minimalConfig.replacingOccurrences(
            of: "http://127.0.0.1:9001/{proxy}", with: "http://${stageVariables.host}/{proxy}")))
    }

    func testTlsOnAnHttpGroupIsAnError() throws {
        let folder = try TLSFolder(files: ["ca.pem"])
        XCTAssertEqual(folder.issues(upstreamConfig(uri: "http://a", groups: """
              - { name: a, endpoints: ["10.0.0.5:80"], tls: { caBundle: ca.pem } }
              - name: b
                protocol: HTTP
                endpoints: ["10.0.0.6:80"]
                tls:
                  serverName: b.internal
              - { name: c, protocol: HTTP2, endpoints: ["10.0.0.7:80"], tls: { caBundle: missing.pem } }
            """)), [
            #"$DIR/turnpike.yaml:16:44: targetGroups[0].tls: "tls" applies to HTTPS target groups only (add protocol: HTTPS)"#,
            #"$DIR/turnpike.yaml:20:5: targetGroups[1].tls: "tls" applies to HTTPS target groups only (add protocol: HTTPS)"#,
            #"$DIR/turnpike.yaml:22:26: targetGroups[2].protocol: unknown protocol "HTTP2" (expected "HTTP", "HTTPS")"#,
        ])
    }

    func testMissingFilesAndMalformedTlsBlocksAreNamed() throws {
        let folder = try TLSFolder(files: ["ok.pem"])
        try FileManager.default.createDirectory(atPath: folder.path + "/keys", withIntermediateDirectories: true)
        XCTAssertEqual(folder.issues(upstreamConfig(uri: "https://a", groups: """
              - name: a
                protocol: HTTPS
                endpoints: ["10.0.0.5:443"]
                tls:
                  caBundle: ./missing-ca.pem
                  clientCertificate: { chain: file://missing.pem, key: keys }
              - name: b
                protocol: HTTPS
                endpoints: ["10.0.0.6:443"]
                tls:
                  caBundle: "s3://bucket/ca.pem"
                  clientCertificate: { chain: ok.pem }
                  verify: false
              - { name: c, protocol: HTTPS, endpoints: ["10.0.0.7:443"], tls: ok.pem }
              - { name: d, protocol: HTTPS, endpoints: ["10.0.0.8:443"], tls: { caBundle: "" } }
            """)), [
            #"$DIR/turnpike.yaml:20:17: targetGroups[0].tls.caBundle: cannot read "$DIR/missing-ca.pem": no such file"#,
            #"$DIR/turnpike.yaml:21:35: targetGroups[0].tls.clientCertificate.chain: cannot read "$DIR/missing.pem": no such file"#,
            #"$DIR/turnpike.yaml:21:60: targetGroups[0].tls.clientCertificate.key: cannot read "$DIR/keys": it is a folder, not a file"#,
            #"$DIR/turnpike.yaml:26:17: targetGroups[1].tls.caBundle: a CA bundle is a local PEM file (a path or file://PATH); s3:// is not supported, got "s3://bucket/ca.pem""#,
            #"$DIR/turnpike.yaml:27:26: targetGroups[1].tls.clientCertificate.key: missing required key "key""#,
            #"$DIR/turnpike.yaml:28:7: targetGroups[1].tls.verify: unknown key "verify" (expected one of: caBundle, serverName, clientCertificate)"#,
            #"$DIR/turnpike.yaml:29:67: targetGroups[2].tls: expected a mapping, got "ok.pem""#,
            #"$DIR/turnpike.yaml:30:79: targetGroups[3].tls.caBundle: expected a file path, got """#,
        ])
    }

    func testServerNameIsADnsNameWithoutWildcard() {
        XCTAssertEqual(issueLines(upstreamConfig(uri: "https://a", groups: """
              - { name: a, protocol: HTTPS, endpoints: ["10.0.0.5:443"], tls: { serverName: 10.0.0.5 } }
              - { name: b, protocol: HTTPS, endpoints: ["10.0.0.6:443"], tls: { serverName: "[::1]" } }
              - { name: c, protocol: HTTPS, endpoints: ["10.0.0.7:443"], tls: { serverName: "*.internal" } }
              - { name: d, protocol: HTTPS, endpoints: ["10.0.0.8:443"], tls: { serverName: "bad_name.internal" } }
              - { name: e, protocol: HTTPS, endpoints: ["10.0.0.9:443"], tls: { serverName: localhost } }
            """)), [
            #"t.yaml:16:81: targetGroups[0].tls.serverName: serverName is a DNS name (SNI carries no IP addresses), got "10.0.0.5"; leave it out to verify each endpoint's IP"#,
            #"t.yaml:17:81: targetGroups[1].tls.serverName: serverName is a DNS name (SNI carries no IP addresses), got "[::1]"; leave it out to verify each endpoint's IP"#,
            #"t.yaml:18:81: targetGroups[2].tls.serverName: serverName must be a DNS name such as api.internal.example (no wildcard), got "*.internal""#,
            #"t.yaml:19:81: targetGroups[3].tls.serverName: serverName must be a DNS name such as api.internal.example (no wildcard), got "bad_name.internal""#,
        ])
    }

    func testBundledUpstreamTlsExampleLoadsWhenItsFilesExist() throws {
        let source = repositoryRoot.appendingPathComponent("examples/upstream-tls.yaml").path
        let yaml = try String(contentsOfFile: source, encoding: .utf8)
        let folder = try TLSFolder()
        let missing = folder.issues(yaml)
        XCTAssertEqual(missing.count, 3, missing.joined(separator: "\n"))
        XCTAssertTrue(missing.allSatisfy { $0.hasSuffix(": no such file") && $0.contains("\"$DIR/certs/") }, missing.joined(separator: "\n"))

        for file in ["certs/dev-ca.pem", "certs/client.pem", "certs/client.key"] { try folder.add(file) }
        let config = try folder.load(yaml)
        let certs = folder.path + "/certs/"
        XCTAssertEqual(config.targetGroups.map(\.name), ["plain", "internal-https", "public-https"])
        XCTAssertEqual(config.targetGroups.map(\.isHTTPS), [false, true, true])
        XCTAssertEqual(config.targetGroups.map(\.tls), [
            nil,
            UpstreamTLS(
                caBundlePath: certs + "dev-ca.pem", serverName: "localhost",
                clientCertificate: TLSCertificate(chainPath: certs + "client.pem", keyPath: certs + "client.key")),
            UpstreamTLS(serverName: "api.example.com"),
        ])
        let uris = config.apis[0].integrations.map(\.uri)
        XCTAssertEqual(uris.map(\.isHTTPS), [false, true, true, true])
        XCTAssertEqual(uris.map(\.upstream), [
            .targetGroup("plain"), .targetGroup("internal-https"), .targetGroup("public-https"),
            .endpoint(Endpoint(host: "127.0.0.1", port: 9443)),
        ])
    }
}
