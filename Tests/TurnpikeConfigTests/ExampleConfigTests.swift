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
        XCTAssertEqual(api.stages[1].defaultRouteThrottle, ThrottleSettings(burstLimit: 100, rateLimit: 50))
        XCTAssertEqual(api.stages[1].routeThrottles, ["GET /pets/{petId}": ThrottleSettings(burstLimit: 20, rateLimit: 10)])
        XCTAssertEqual(api.corsConfiguration?.allowOrigins, [
            .exact("http://localhost:3000"), .subdomains(scheme: "https", domain: "example.com", port: nil)])
        XCTAssertEqual(api.corsConfiguration?.allowCredentials, true)
        XCTAssertEqual(api.deployments.map(\.id), ["canary1"])
        let canaryPets = try XCTUnwrap(api.deployment("canary1")?.integrations.first { $0.name == "pets" })
        XCTAssertEqual(canaryPets.requestParameters.first, ParameterMapping(
            action: .overwrite, target: .header("x-deployment"), value: ValueTemplate(text: "canary", parts: [.literal("canary")])))
        XCTAssertNil(api.stages[0].cache)
        XCTAssertEqual(api.stages[1].cache, StageCacheSettings(capacity: .clusterSize(.gb0_5)))
        XCTAssertEqual(api.stages[1].cacheSettings(routeKey: "GET /pets/{petId}", method: "GET"), RouteCacheSettings(
            cachingEnabled: true, cacheTtlInSeconds: 60,
            cacheKeyParameters: [.path("petId"), .querystring("fields")]))
        XCTAssertEqual(api.stages[1].canary, CanarySettings(
            deploymentId: "canary1", percentTraffic: 10, stageVariableOverrides: ["backend": "echo-canary"]))
        XCTAssertNil(api.stages[1].deploymentId)
        XCTAssertEqual(config.settings.throttle, .accountDefault)
        XCTAssertEqual(config.domainNames, [DomainName(name: "api.localhost", mappings: [
            ApiMapping(key: "", apiName: "pets-api", stageName: "$default"),
            ApiMapping(key: "v1", apiName: "pets-api", stageName: "prod"),
        ])])
    }

    func testAccessControlExampleLoadsWithItsKeyFromTheEnvironment() throws {
        let path = repositoryRoot.appendingPathComponent("examples/access-control.yaml").path
        let folder = (path as NSString).deletingLastPathComponent
        let config = try ConfigLoader.load(path: path, environment: ["PARTNER_KEY": "partner-key-0123456789abcdef"])

        XCTAssertEqual(config.settings.throttle, ThrottleSettings(burstLimit: 5000, rateLimit: 10000))
        XCTAssertEqual(config.settings.clientIpThrottle, ThrottleSettings(burstLimit: 50, rateLimit: 20))
        XCTAssertEqual(config.settings.quotaStorePath, folder + "/turnpike-usage.sqlite")
        XCTAssertEqual(config.authorizers, [JWTAuthorizerConfig(
            name: "idp", identitySource: .header("authorization"), issuer: "https://idp.example.com/realms/main",
            audience: ["orders-app"], jwks: .file(path: folder + "/dev-jwks.json"), caBundle: nil,
            clockSkewSeconds: 60, jwksRefreshSeconds: 300)])
        let api = try XCTUnwrap(config.apis.first)
        XCTAssertEqual(api.apiKeySource, .header)
        XCTAssertEqual(api.routes.map(\.authorizationType), [.jwt, .jwt, .none, .none])
        XCTAssertEqual(api.routes.map(\.authorizerName), ["idp", "idp", nil, nil])
        XCTAssertEqual(api.routes.map(\.authorizationScopes), [["orders/read"], ["orders/write"], [], []])
        XCTAssertEqual(api.routes.map(\.apiKeyRequired), [false, false, true, false])
        XCTAssertEqual(api.stages[0].defaultRouteThrottle, ThrottleSettings(burstLimit: 200, rateLimit: 100))
        XCTAssertEqual(api.stages[0].routeThrottles, ["POST /orders": ThrottleSettings(burstLimit: 20, rateLimit: 10)])
        XCTAssertEqual(config.apiKeys.map(\.name), ["partner-acme", "partner-old"])
        XCTAssertEqual(config.apiKeys.map(\.value), ["partner-key-0123456789abcdef", "old-partner-key-0123456789"])
        XCTAssertEqual(config.apiKeys.map(\.enabled), [true, false])
        XCTAssertEqual(config.usagePlans.count, 1)
        let plan = config.usagePlans[0]
        XCTAssertEqual(plan.apiStages, [UsagePlanApiStage(
            apiName: "orders-api", stageName: "$default",
            routeThrottles: ["GET /reports/{proxy+}": ThrottleSettings(burstLimit: 10, rateLimit: 5)])])
        XCTAssertEqual(plan.throttle, ThrottleSettings(burstLimit: 100, rateLimit: 50))
        XCTAssertEqual(plan.quota, QuotaSettings(limit: 100_000, period: .month, offset: 0))
        XCTAssertEqual(plan.apiKeyNames, ["partner-acme", "partner-old"])

        // Without the variable the example names what is missing.
        do {
            _ = try ConfigLoader.load(path: path, environment: [:])
            XCTFail("expected issues")
        } catch {
            XCTAssertEqual(error.issues.map(\.message), [#"environment variable "PARTNER_KEY" is not set"#])
            XCTAssertEqual(error.issues.map(\.path), ["apiKeys[0].valueFrom"])
        }
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

        XCTAssertEqual(config.authorizers, [JWTAuthorizerConfig(
            name: "CognitoAuth", identitySource: .header("authorization"), issuer: "https://idp.example.com/pool",
            audience: ["your-app-client-id"], jwks: .file(path: "jwks.json"), caBundle: nil,
            clockSkewSeconds: 60, jwksRefreshSeconds: 300)])
        XCTAssertEqual(api.routes[0], Route(
            routeKey: "GET /users/{userId}", integrationName: "users-http", authorizationType: .jwt,
            authorizerName: "CognitoAuth", authorizationScopes: ["users/read"], apiKeyRequired: false))
        XCTAssertEqual(api.routes[1].authorizationType, .none)
        XCTAssertEqual(api.stages[0].defaultRouteThrottle, ThrottleSettings(burstLimit: 100, rateLimit: 50))
        XCTAssertNil(api.stages[1].defaultRouteThrottle)
        XCTAssertEqual(config.usagePlans, [UsagePlanConfig(
            id: "53a526d5c8", name: "Standard", description: nil,
            apiStages: [UsagePlanApiStage(apiName: "users-api", stageName: "prod", routeThrottles: [:])],
            throttle: ThrottleSettings(burstLimit: 100, rateLimit: 50),
            quota: QuotaSettings(limit: 10000, period: .month, offset: 0), apiKeyNames: ["partner-acme"])])
        XCTAssertEqual(config.apiKeys.map(\.name), ["partner-acme"])
        XCTAssertEqual(config.apiKeys.first?.value, "acme-0123456789abcdef0123")
        XCTAssertEqual(config.apiKeys.first?.enabled, true)

        XCTAssertEqual(api.corsConfiguration, CorsConfiguration(
            allowOrigins: [.exact("https://app.example.com")], allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allowHeaders: ["content-type", "authorization", "x-api-key"], exposeHeaders: ["x-request-id"],
            maxAge: 3600, allowCredentials: true))
        XCTAssertEqual(api.deployments.map(\.id), ["canary1"])
        XCTAssertEqual(api.stages[0].cache, StageCacheSettings(capacity: .clusterSize(.gb0_5)))
        XCTAssertEqual(api.stages[0].cacheSettings(routeKey: "GET /users/{userId}", method: "GET"),
                       RouteCacheSettings(cachingEnabled: true, cacheTtlInSeconds: 60))
        XCTAssertNil(api.stages[0].cacheSettings(routeKey: "ANY /{proxy+}", method: "GET"))
        XCTAssertEqual(api.stages[0].canary, CanarySettings(
            deploymentId: "canary1", percentTraffic: 10, stageVariableOverrides: ["backendHost": "127.0.0.1:9002"]))
        XCTAssertNil(api.stages[1].cache)
        XCTAssertNil(api.stages[1].canary)
    }

    func testSharedExampleUnimplementedPartsAreEachReportedAsNotSupportedYetAndTheCanaryNeedsADeployment() {
        let lines = issueLines(SharedExample.text).map { $0.replacingOccurrences(of: "t.yaml:", with: "") }
        // Parsed text anchors relative paths at the current folder, where the example's certificates are not.
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
        XCTAssertEqual(lines, [
            // The example's TokenAuth names a function it does not define.
            #"35:20: authorizers[1].authorizerUri: names no function: "token-authorizer" (functions: "users")"#,
            // A canary serves a deployment, which the shared example does not name (nor define).
            #"85:25: apis[0].stages[0].canarySettings.deploymentId: missing required key "deploymentId" (the deployment the canary serves)"#,
            #"120:27: domainNames[0].certificate.chain: cannot read ""# + here + #"/certs/api.example.com.pem": no such file"#,
            #"120:61: domainNames[0].certificate.key: cannot read ""# + here + #"/certs/api.example.com.key": no such file"#,
            #"121:44: domainNames[0].mutualTlsAuthentication.truststore: cannot read ""# + here + #"/certs/clients-ca.pem": no such file"#,
        ])
    }
}
