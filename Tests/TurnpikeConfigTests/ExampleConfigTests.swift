import XCTest
import TurnpikeConfig

final class ExampleConfigTests: XCTestCase {
    func testBundledExampleLoadsWithEveryPartANewcomerNeeds() throws {
        let path = repositoryRoot.appendingPathComponent("examples/turnpike.yaml").path
        let config = try ConfigLoader.load(path: path)

        XCTAssertEqual(config.sourcePath, path)
        XCTAssertEqual(config.listeners, [
            Listener(name: "public", host: "127.0.0.1", port: 8080, protocolType: .http, admin: false, defaultApi: "pets-api"),
            Listener(name: "admin", host: "127.0.0.1", port: 9901, protocolType: .http, admin: true, defaultApi: nil),
        ])
        XCTAssertEqual(config.targetGroups.map(\.name), ["echo"])
        XCTAssertEqual(config.targetGroups[0].endpoints, [Endpoint(host: "127.0.0.1", port: 9001)])
        XCTAssertNotNil(config.targetGroups[0].healthCheck)

        let api = try XCTUnwrap(config.apis.first)
        XCTAssertEqual(api.protocolType, .http)
        XCTAssertEqual(api.routes, [
            Route(routeKey: "ANY /{proxy+}", integrationName: "echo-proxy"),
            Route(routeKey: "GET /pets/{petId}", integrationName: "pets"),
        ])
        XCTAssertEqual(api.integrations[0].uri.upstream, .targetGroup("echo"))
        XCTAssertEqual(api.integrations[0].uri.pathAndQuery, [.literal("/"), .pathParameter("proxy")])
        XCTAssertEqual(api.integrations[1].requestParameters.first, ParameterMapping(
            action: .append, target: .header("x-pet-id"),
            value: ValueTemplate(text: "$request.path.petId", parts: [.variable(.requestPathParameter("petId"))])))
        XCTAssertEqual(api.stages.map(\.name), ["$default", "prod"])
        XCTAssertEqual(api.stages[1].variables, ["backend": "echo-prod", "owner": "pets-team"])
        XCTAssertEqual(config.domainNames, [DomainName(name: "api.localhost", mappings: [
            ApiMapping(key: "", apiName: "pets-api", stageName: "$default"),
            ApiMapping(key: "v1", apiName: "pets-api", stageName: "prod"),
        ])])
    }

    func testSharedExampleImplementedPartsParse() throws {
        let config = try XCTUnwrap(parsed(SharedExample.implementedSubset))
        XCTAssertEqual(config.listeners.map(\.port), [8080, 9901])
        let group = config.targetGroups[0]
        XCTAssertEqual(group.endpoints, [Endpoint(host: "127.0.0.1", port: 9001), Endpoint(host: "127.0.0.1", port: 9002)])
        XCTAssertEqual(group.loadBalancing, .leastOutstanding)
        XCTAssertEqual(group.healthCheck, HealthCheck(
            path: "/healthz", intervalSeconds: 5, timeoutSeconds: 2, healthyThreshold: 2, unhealthyThreshold: 3))
        let api = config.apis[0]
        XCTAssertEqual(api.apiId, "abc123")
        XCTAssertEqual(api.integrations[0].uri.upstream, .targetGroup("users-service"))
        XCTAssertEqual(api.integrations[0].requestParameters, [ParameterMapping(
            action: .overwrite, target: .header("x-user-sub"),
            value: ValueTemplate(text: "$context.authorizer.claims.sub", parts: [.variable(.context("authorizer.claims.sub"))]))])
        XCTAssertEqual(api.stages[0].variables, ["backendHost": "127.0.0.1:9001"])
        XCTAssertEqual(api.stages[0].accessLog, AccessLogSettings(enabled: true, destination: .file(path: "access.log"), format: nil))
        XCTAssertEqual(api.stages[1].autoDeploy, true)
        XCTAssertEqual(config.domainNames[0].mappings.map(\.key), ["", "v2"])
    }

    func testSharedExampleUnimplementedPartsAreEachReportedAsNotSupportedYet() {
        let lines = issueLines(SharedExample.text).map { $0.replacingOccurrences(of: "t.yaml:", with: "") }
        XCTAssertEqual(lines, [
            #"13:15: listeners[1].protocol: protocol "HTTPS" is not supported yet"#,
            #"25:1: authorizers: "authorizers" is not supported yet"#,
            #"40:1: functions: "functions" is not supported yet"#,
            #"51:5: apis[0].corsConfiguration: "corsConfiguration" is not supported yet"#,
            #"60:26: apis[0].integrations[0].integrationType: integrationType "AWS_PROXY" is not supported yet"#,
            #"72:9: apis[0].routes[0].authorizationType: "authorizationType" is not supported yet"#,
            #"73:9: apis[0].routes[0].authorizer: "authorizer" is not supported yet"#,
            #"74:9: apis[0].routes[0].authorizationScopes: "authorizationScopes" is not supported yet"#,
            #"80:9: apis[0].stages[0].defaultRouteSettings: "defaultRouteSettings" is not supported yet"#,
            #"81:9: apis[0].stages[0].cacheClusterEnabled: "cacheClusterEnabled" is not supported yet"#,
            #"82:9: apis[0].stages[0].cacheClusterSize: "cacheClusterSize" is not supported yet"#,
            #"83:9: apis[0].stages[0].routeSettings: "routeSettings" is not supported yet"#,
            #"85:9: apis[0].stages[0].canarySettings: "canarySettings" is not supported yet"#,
            #"92:19: apis[1].protocolType: protocolType "REST" is not supported yet"#,
            #"95:26: apis[1].integrations[0].integrationType: integrationType "AWS_PROXY" is not supported yet"#,
            #"100:9: apis[1].routes[0].authorizationType: "authorizationType" is not supported yet"#,
            #"101:9: apis[1].routes[0].authorizer: "authorizer" is not supported yet"#,
            #"102:9: apis[1].routes[0].apiKeyRequired: "apiKeyRequired" is not supported yet"#,
            #"106:1: usagePlans: "usagePlans" is not supported yet"#,
            #"113:1: apiKeys: "apiKeys" is not supported yet"#,
            #"120:5: domainNames[0].certificate: "certificate" is not supported yet"#,
            #"121:5: domainNames[0].mutualTlsAuthentication: "mutualTlsAuthentication" is not supported yet"#,
        ])
    }
}
