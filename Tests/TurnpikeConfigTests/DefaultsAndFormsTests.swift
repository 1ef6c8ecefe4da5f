import XCTest
import TurnpikeConfig

/// Defaults, accepted input forms (JSON, AWS spellings) and the parsed shapes the gateway uses.
final class DefaultsAndFormsTests: XCTestCase {
    func testOmittedFieldsTakeTheirDocumentedDefaults() throws {
        let yaml = minimalConfig + """

            targetGroups:
              - name: svc
                endpoints: ["localhost:9001"]
                healthCheck: {}
                passiveEjection: {}
            """
        let config = try XCTUnwrap(parsed(yaml))
        XCTAssertEqual(config.settings, GatewaySettings.defaults)
        XCTAssertEqual(config.settings, GatewaySettings(
            workers: nil, maxRequestBodyBytes: 10_485_760, maxRequestLineBytes: 8192, maxHeaderBytes: 32768,
            keepAliveTimeoutSeconds: 75, headerTimeoutSeconds: 30, drainTimeoutSeconds: 30,
            upstreamIdleTimeoutSeconds: 60,
            accessLog: AccessLogSettings(enabled: false, destination: .stdout, format: nil)))
        XCTAssertEqual(config.listeners, [
            Listener(name: "public", host: "127.0.0.1", port: 8080, protocolType: .http, admin: false, defaultApi: nil),
        ])
        XCTAssertEqual(config.targetGroups, [TargetGroup(
            name: "svc", endpoints: [Endpoint(host: "127.0.0.1", port: 9001)], loadBalancing: .roundRobin,
            healthCheck: HealthCheck(path: "/", intervalSeconds: 5, timeoutSeconds: 2, healthyThreshold: 2, unhealthyThreshold: 3),
            maxConnectionsPerEndpoint: 256, maxIdleConnectionsPerEndpoint: 64, connectTimeoutMillis: 3000,
            passiveEjection: PassiveEjection(consecutiveFailures: 5, ejectionSeconds: 30))])
        let api = config.apis[0]
        XCTAssertEqual(api.protocolType, .http)
        XCTAssertFalse(api.disableExecuteApiEndpoint)
        XCTAssertNil(api.description)
        let integration = api.integrations[0]
        XCTAssertNil(integration.method)
        XCTAssertEqual(integration.timeoutMillis, 29000)
        XCTAssertNil(integration.payloadFormatVersion)
        XCTAssertEqual(integration.requestParameters, [])
        XCTAssertEqual(integration.responseParameters, [:])
        XCTAssertEqual(api.stages, [Stage(name: "$default", description: nil, variables: [:], autoDeploy: false, accessLog: nil)])
        XCTAssertEqual(config.domainNames, [])
        XCTAssertEqual(config.sourcePath, "t.yaml")
    }

    func testGeneratedApiIdIsTheFirstTenHexDigitsOfFNV1aOfTheName() throws {
        let first = try XCTUnwrap(parsed(minimalConfig))
        let again = try XCTUnwrap(parsed(minimalConfig))
        // FNV-1a 64 of "shop" is 0x46dc5e18e2...; the id must not change between loads.
        XCTAssertEqual(first.apis[0].apiId, "46dc5e18e2")
        XCTAssertEqual(again.apis[0].apiId, first.apis[0].apiId)
    }

    func testExplicitApiIdsMustBeValidAndUnique() {
        let yaml = minimalConfig.replacingOccurrences(of: "  - name: shop\n", with: "  - name: shop\n    apiId: abc\n") + """

              - name: other
                apiId: abc
                stages: [{ stageName: $default }]
              - name: third
                apiId: Not-Valid
                stages: [{ stageName: $default }]
            """
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:17:5: apis[1].apiId: api id "abc" is already used by api "shop""#,
            #"t.yaml:20:12: apis[2].apiId: an api id is 1 to 64 characters of a-z and 0-9, got "Not-Valid""#,
        ])
    }

    func testJsonInputIsAccepted() throws {
        let json = """
            {
              "listeners": [{ "name": "public", "port": 8080 }],
              "apis": [{
                "name": "shop",
                "integrations": [{ "name": "backend", "integrationType": "HTTP_PROXY",
                                   "integrationUri": "http://127.0.0.1:9001", "timeoutInMillis": 5000 }],
                "routes": [{ "routeKey": "GET /items", "target": "backend" }],
                "stages": [{ "stageName": "$default", "autoDeploy": true }]
              }]
            }
            """
        let config = try XCTUnwrap(parsed(json))
        XCTAssertEqual(config.apis[0].integrations[0].timeoutMillis, 5000)
        XCTAssertEqual(config.apis[0].integrations[0].uri.upstream, .endpoint(Endpoint(host: "127.0.0.1", port: 9001)))
        XCTAssertEqual(config.apis[0].routes, [Route(routeKey: "GET /items", integrationName: "backend")])
        XCTAssertTrue(config.apis[0].stages[0].autoDeploy)
    }

    func testJsonFileLoadsThroughLoadPath() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("turnpike-config-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("turnpike.json")
        let json = #"""
            {"listeners": [{"name": "p", "port": 8080}],
             "settings": {"accessLog": {"enabled": true, "destination": "file://./logs/access.log"}},
             "apis": [{"name": "a", "stages": [{"stageName": "$default"}]}]}
            """#
        try json.write(to: file, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(path: file.path)
        XCTAssertEqual(config.settings.accessLog.destination, .file(path: folder.path + "/logs/access.log"))
    }

    func testParameterMappingValuesAreParsedIntoLiteralAndVariableParts() throws {
        let yaml = minimalConfig.replacingOccurrences(of: "integrationUri: http://127.0.0.1:9001/{proxy}", with: #"""
            integrationUri: http://127.0.0.1:9001/{proxy}
                    integrationMethod: ANY
                    requestParameters:
                      "overwrite:header.X-Trace": "id=${context.requestId};path=$request.path by $request.header.User-Agent"
                      "append:querystring.stage": "$stageVariables.name"
                      "remove:header.cookie": ""
                      "overwrite:path": "/v2$request.path.rest"
                      "overwrite:querystring.price": "$5 off"
                    responseParameters:
                      "404":
                        "overwrite:statuscode": "204"
                        "append:header.x-q": "$request.querystring.q"
            """#)
        let integration = try XCTUnwrap(parsed(yaml)?.apis[0].integrations[0])
        XCTAssertNil(integration.method)
        XCTAssertEqual(integration.requestParameters.map(\.target),
                       [.header("x-trace"), .querystring("stage"), .header("cookie"), .path, .querystring("price")])
        XCTAssertEqual(integration.requestParameters.map(\.action), [.overwrite, .append, .remove, .overwrite, .overwrite])
        XCTAssertEqual(integration.requestParameters[0].value.parts, [
            .literal("id="), .variable(.context("requestId")), .literal(";path="), .variable(.requestPath),
            .literal(" by "), .variable(.requestHeader("user-agent")),
        ])
        XCTAssertEqual(integration.requestParameters[1].value.parts, [.variable(.stageVariable("name"))])
        XCTAssertEqual(integration.requestParameters[2].value, ValueTemplate(text: "", parts: []))
        XCTAssertEqual(integration.requestParameters[3].value.parts, [.literal("/v2"), .variable(.requestPathParameter("rest"))])
        XCTAssertEqual(integration.requestParameters[4].value.parts, [.literal("$5 off")])
        XCTAssertEqual(integration.responseParameters, ["404": [
            ParameterMapping(action: .overwrite, target: .statuscode, value: ValueTemplate(text: "204", parts: [.literal("204")])),
            ParameterMapping(action: .append, target: .header("x-q"),
                             value: ValueTemplate(text: "$request.querystring.q", parts: [.variable(.requestQueryString("q"))])),
        ]])
    }

    func testIntegrationUriMayTakeItsHostFromStageVariables() throws {
        let yaml = minimalConfig.replacingOccurrences(
            of: "http://127.0.0.1:9001/{proxy}", with: "http://${stageVariables.host}/api/{proxy}?v=${stageVariables.v}")
        let uri = try XCTUnwrap(parsed(yaml)?.apis[0].integrations[0].uri)
        XCTAssertEqual(uri.upstream, .stageDependent([.stageVariable("host")]))
        XCTAssertEqual(uri.pathAndQuery, [.literal("/api/"), .pathParameter("proxy"), .literal("?v="), .stageVariable("v")])
    }

    func testIPv6AndLocalhostAddressesAreStoredNumerically() throws {
        let yaml = minimalConfig.replacingOccurrences(of: "port: 8080", with: "host: \"::1\"\n    port: 8080") + """

            targetGroups:
              - name: svc
                endpoints: ["[::1]:9001", "localhost:9002"]
            """
        let config = try XCTUnwrap(parsed(yaml))
        XCTAssertEqual(config.listeners[0].host, "::1")
        XCTAssertEqual(config.targetGroups[0].endpoints, [Endpoint(host: "::1", port: 9001), Endpoint(host: "127.0.0.1", port: 9002)])
    }

    func testAccessLogFormatKeepsContextVariablesAndRejectsOthers() throws {
        let good = minimalConfig + "\nsettings: { accessLog: { enabled: true, destination: stderr, format: '$context.requestId $context.status' } }"
        let accessLog = try XCTUnwrap(parsed(good)?.settings.accessLog)
        XCTAssertEqual(accessLog.destination, .stderr)
        XCTAssertEqual(accessLog.format?.parts, [.variable(.context("requestId")), .literal(" "), .variable(.context("status"))])

        let bad = minimalConfig + "\nsettings: { accessLog: { format: '$request.header.host' } }"
        XCTAssertEqual(issueLines(bad), [
            #"t.yaml:15:34: settings.accessLog.format: an access log format may only use $context variables"#,
        ])
    }

    func testDomainNamesAreLowercasedAndCompareCaseInsensitively() {
        let yaml = minimalConfig + """

            domainNames:
              - domainName: API.Example.com
                apiMappings: [{ api: shop, stage: $default }]
              - domainName: api.example.COM
                apiMappings: [{ api: shop, stage: $default }]
            """
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:18:17: domainNames[1].domainName: duplicate domain name "api.example.com" (first used at line 16)"#,
        ])
        let single = minimalConfig + "\ndomainNames: [{ domainName: '*.Example.com', apiMappings: [{ api: shop, stage: $default }] }]"
        XCTAssertEqual(parsed(single)?.domainNames.first?.name, "*.example.com")
    }
}
