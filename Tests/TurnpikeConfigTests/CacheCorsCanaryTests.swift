import XCTest
import TurnpikeConfig

/// CORS, deployments, canaries and the stage response cache.
final class CacheCorsCanaryTests: XCTestCase {
    /// An api with two routes, two deployments and a stage `prod` (lines 1–33; the stage starts at line 32).
    static let base = """
        listeners:
          - name: public
            port: 8080
        apis:
          - name: shop
            integrations:
              - name: backend
                integrationType: HTTP_PROXY
                integrationUri: http://127.0.0.1:9001/{proxy}
            routes:
              - routeKey: ANY /{proxy+}
                target: backend
              - routeKey: GET /pets/{petId}
                target: backend
            deployments:
              - deploymentId: v1
                description: first
                integrations:
                  - name: old
                    integrationType: HTTP_PROXY
                    integrationUri: http://127.0.0.1:9001/v1/{proxy}
                routes:
                  - routeKey: ANY /{proxy+}
                    target: old
              - deploymentId: canary1
                integrations:
                  - { name: marked, integrationType: HTTP_PROXY, integrationUri: "http://127.0.0.1:9001/{proxy}",
                      requestParameters: { "overwrite:header.x-deployment": "canary" } }
                routes:
                  - { routeKey: "ANY /{proxy+}", target: marked }
                  - { routeKey: "POST /orders", target: marked }
            stages:
              - stageName: prod

        """

    /// `base` with `text` added to the stage `prod`: its first line becomes a stage field, and the
    /// others keep their indentation relative to it (so `  - stageName: …` two spaces less starts a stage).
    static func stage(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        func indent(_ line: Substring) -> Int { line.prefix { $0 == " " }.count }
        let first = lines.first.map(indent) ?? 0
        return base + lines.map { line in
            line.isEmpty ? "" : String(repeating: " ", count: 8 + indent(line) - first) + line.drop { $0 == " " }
        }.joined(separator: "\n")
    }

    /// `base` with `text` (indented as api fields) added to the api.
    static func api(_ text: String) -> String {
        base.replacingOccurrences(of: "    stages:\n", with: text.split(separator: "\n")
            .map { "    " + $0 }.joined(separator: "\n") + "\n    stages:\n")
    }

    private func apiOf(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> ApiDefinition {
        try XCTUnwrap(parsed(yaml, file: file, line: line)?.apis.first, file: file, line: line)
    }

    // MARK: CORS

    func testCorsConfigurationIsNormalisedAndMatchesOrigins() throws {
        let api = try apiOf(Self.api("""
            corsConfiguration:
              allowOrigins: ["https://App.Example.com:443", "http://localhost:3000", "https://*.example.org", "http://*"]
              allowMethods: ["get", "POST", "*"]
              allowHeaders: ["Content-Type", "*"]
              exposeHeaders: ["X-Request-Id"]
              maxAge: 86400
              allowCredentials: true
            """))
        let cors = try XCTUnwrap(api.corsConfiguration)
        XCTAssertEqual(cors, CorsConfiguration(
            allowOrigins: [.exact("https://app.example.com"), .exact("http://localhost:3000"),
                           .subdomains(scheme: "https", domain: "example.org", port: nil), .anyHost(scheme: "http")],
            allowMethods: ["GET", "POST", "*"], allowHeaders: ["content-type", "*"], exposeHeaders: ["x-request-id"],
            maxAge: 86400, allowCredentials: true))
        XCTAssertEqual(cors.allowOrigins.map(\.text),
                       ["https://app.example.com", "http://localhost:3000", "https://*.example.org", "http://*"])
        XCTAssertTrue(cors.allows(origin: "https://app.example.com"))
        XCTAssertTrue(cors.allows(origin: "HTTPS://APP.EXAMPLE.COM:443"))
        XCTAssertTrue(cors.allows(origin: "http://localhost:3000"))
        XCTAssertFalse(cors.allows(origin: "https://localhost:3000"))
        XCTAssertTrue(cors.allows(origin: "https://a.b.example.org"))
        XCTAssertFalse(cors.allows(origin: "https://example.org"))
        XCTAssertFalse(cors.allows(origin: "https://evilexample.org"))
        XCTAssertFalse(cors.allows(origin: "https://a.example.org:8443"))
        XCTAssertTrue(cors.allows(origin: "http://anything.test:81"))
        XCTAssertFalse(cors.allows(origin: "https://other.test"))
        XCTAssertFalse(cors.allows(origin: "null"))
    }

    func testCorsDefaultsAndAbsence() throws {
        XCTAssertNil(try apiOf(Self.base).corsConfiguration)
        let cors = try XCTUnwrap(apiOf(Self.api("corsConfiguration: { allowOrigins: ['*'] }")).corsConfiguration)
        XCTAssertEqual(cors, CorsConfiguration(
            allowOrigins: [.any], allowMethods: [], allowHeaders: [], exposeHeaders: [], maxAge: nil, allowCredentials: false))
        XCTAssertTrue(cors.allows(origin: "https://x.test"))
        XCTAssertEqual(try apiOf(Self.api("corsConfiguration: { maxAge: -1 }")).corsConfiguration?.maxAge, -1)
    }

    func testWildcardOriginWithCredentialsIsRejectedInAWSWords() {
        XCTAssertEqual(issueLines(Self.api("corsConfiguration: { allowOrigins: ['*'], allowCredentials: true }")), [
            #"t.yaml:32:47: apis[0].corsConfiguration.allowCredentials: allow-credentials is not supported if 'allow-origin' is * (list the allowed origins instead)"#,
        ])
    }

    func testCorsFieldsAreValidated() {
        let yaml = Self.api("""
            corsConfiguration:
              allowOrigins: ["https://app.example.com/", "app.example.com", "https://*.*.example.com", "ftp://a b",
                             "https://a.test:0", "https://*:8443", "https://x.test", "HTTPS://X.test", 7]
              allowMethods: ["GET", "FETCH"]
              allowHeaders: ["x ok"]
              exposeHeaders: "x-a"
              maxAge: 86401
              allowCredentials: "yes"
              allowOrigin: []
            """)
        let origin = #"an origin is "*", scheme://host[:port], scheme://* or scheme://*.domain[:port] (no path, no trailing "/"), got "#
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:33:22: apis[0].corsConfiguration.allowOrigins[0]: "# + origin + #""https://app.example.com/""#,
            #"t.yaml:33:50: apis[0].corsConfiguration.allowOrigins[1]: "# + origin + #""app.example.com""#,
            #"t.yaml:33:69: apis[0].corsConfiguration.allowOrigins[2]: "# + origin + #""https://*.*.example.com""#,
            #"t.yaml:33:96: apis[0].corsConfiguration.allowOrigins[3]: "# + origin + #""ftp://a b""#,
            #"t.yaml:34:22: apis[0].corsConfiguration.allowOrigins[4]: "# + origin + #""https://a.test:0""#,
            #"t.yaml:34:42: apis[0].corsConfiguration.allowOrigins[5]: "# + origin + #""https://*:8443""#,
            #"t.yaml:34:78: apis[0].corsConfiguration.allowOrigins[7]: duplicate origin "https://x.test" (first used at line 34)"#,
            #"t.yaml:34:96: apis[0].corsConfiguration.allowOrigins[8]: "# + origin + #""7""#,
            #"t.yaml:35:29: apis[0].corsConfiguration.allowMethods[1]: unknown method "FETCH" (expected GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or *)"#,
            #"t.yaml:36:22: apis[0].corsConfiguration.allowHeaders[0]: expected a header name or "*", got "x ok""#,
            #"t.yaml:37:22: apis[0].corsConfiguration.exposeHeaders: expected a list, got "x-a""#,
            #"t.yaml:38:15: apis[0].corsConfiguration.maxAge: must be at least -1 and at most 86400, got 86401"#,
            #"t.yaml:39:25: apis[0].corsConfiguration.allowCredentials: expected true or false, got "yes""#,
            #"t.yaml:40:7: apis[0].corsConfiguration.allowOrigin: unknown key "allowOrigin" (did you mean "allowOrigins"?)"#,
        ])
    }

    // MARK: deployments

    func testDeploymentsAreFrozenSnapshotsOfRoutesAndIntegrations() throws {
        let api = try apiOf(Self.base)
        XCTAssertEqual(api.deployments.map(\.id), ["v1", "canary1"])
        let v1 = try XCTUnwrap(api.deployment("v1"))
        XCTAssertEqual(v1.description, "first")
        XCTAssertEqual(v1.routes, [Route(routeKey: "ANY /{proxy+}", integrationName: "old")])
        XCTAssertEqual(v1.integrations.map(\.name), ["old"])
        XCTAssertEqual(v1.integrations[0].uri.pathAndQuery, [.literal("/v1/"), .pathParameter("proxy")])
        XCTAssertEqual(api.deployment("canary1")?.integrations[0].requestParameters.map(\.target), [.header("x-deployment")])
        XCTAssertNil(api.deployment("v9"))
        // The api's own routes and integrations are untouched.
        XCTAssertEqual(api.routes.map(\.routeKey), ["ANY /{proxy+}", "GET /pets/{petId}"])
        XCTAssertEqual(api.integrations.map(\.name), ["backend"])
    }

    func testDeploymentsAreValidatedLikeTheApi() {
        let yaml = minimalConfig + """

                deployments:
                  - deploymentId: V1
                    routes: [{ routeKey: "GET /x", target: backend }]
                  - { deploymentId: d1 }
                  - description: no id
                    routes: [{ routeKey: "GET /y", target: nowhere }]
                    stages: []
                  - deploymentId: d1
                    integrations: [{ name: a, integrationType: HTTP_PROXY, integrationUri: "ftp://x" }]
                    routes: [{ routeKey: "GET /a", target: a }, { routeKey: "GET  /a", target: a }]
                  - deploymentId: ""
                  - deploymentId: d2
                    routes: [{ routeKey: "GET /a", target: a }]
                  - 7
            """
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:16:23: apis[0].deployments[0].deploymentId: a deployment id is 1 to 64 characters of a-z and 0-9, got "V1""#,
            #"t.yaml:17:48: apis[0].deployments[0].routes[0].target: names no integration of this deployment: "backend" (the deployment has no integrations)"#,
            #"t.yaml:19:9: apis[0].deployments[2].deploymentId: missing required key "deploymentId""#,
            #"t.yaml:20:48: apis[0].deployments[2].routes[0].target: names no integration of this deployment: "nowhere" (the deployment has no integrations)"#,
            #"t.yaml:21:9: apis[0].deployments[2].stages: unknown key "stages" (expected one of: deploymentId, description, routes, integrations)"#,
            #"t.yaml:22:23: apis[0].deployments[3].deploymentId: duplicate deployment id "d1" (first used at line 18)"#,
            #"t.yaml:23:80: apis[0].deployments[3].integrations[0].integrationUri: expected an http:// or https:// URL, got "ftp://x""#,
            #"t.yaml:24:65: apis[0].deployments[3].routes[1].routeKey: duplicate route key "GET /a" (first used at line 24)"#,
            #"t.yaml:25:23: apis[0].deployments[4].deploymentId: must not be empty"#,
            #"t.yaml:27:48: apis[0].deployments[5].routes[0].target: names no integration of deployment "d2": "a" (the deployment has no integrations)"#,
            #"t.yaml:28:9: apis[0].deployments[6]: expected a mapping, got 7"#,
        ])
    }

    func testDeploymentRoutesTargetTheirOwnIntegrations() {
        let yaml = Self.base.replacingOccurrences(of: "target: old", with: "target: backend")
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:24:21: apis[0].deployments[0].routes[0].target: names no integration of deployment "v1": "backend" (integrations: "old")"#,
        ])
    }

    // MARK: stage deployment

    func testStageServesANamedDeploymentOrTheCurrentRoutes() throws {
        let api = try apiOf(Self.base + """
                    deploymentId: v1
                  - stageName: live
                    autoDeploy: true
                  - stageName: plain
            """)
        XCTAssertEqual(api.stages.map(\.deploymentId), ["v1", nil, nil])
        XCTAssertEqual(api.stages.map(\.autoDeploy), [false, true, false])
    }

    func testStageDeploymentIdIsChecked() {
        let yaml = Self.base + """
                    deploymentId: v9
                  - stageName: live
                    autoDeploy: true
                    deploymentId: v1
                  - stageName: pinned
                    deploymentId: v1
                    routeSettings:
                      "GET /pets/{petId}": { throttlingBurstLimit: 1, throttlingRateLimit: 1 }
            """
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:34:23: apis[0].stages[0].deploymentId: names no deployment of api "shop": "v9" (deployments: "v1", "canary1")"#,
            #"t.yaml:37:9: apis[0].stages[1].deploymentId: a stage with autoDeploy: true serves the api's current routes; remove deploymentId or autoDeploy"#,
            #"t.yaml:41:11: apis[0].stages[2].routeSettings["GET /pets/{petId}"]: names no route of deployment "v1" of api "shop": "GET /pets/{petId}" (routes: "ANY /{proxy+}")"#,
        ])
    }

    // MARK: canary

    func testCanarySettingsAreParsed() throws {
        let api = try apiOf(Self.stage("""
                stageVariables: { host: "a", keep: "b" }
                canarySettings:
                  deploymentId: canary1
                  percentTraffic: 12.5
                  stageVariableOverrides: { host: "c" }
                  useStageCache: true
                  sticky: { header: X-Client-Id }
                routeSettings:
                  "POST /orders": { throttlingBurstLimit: 1, throttlingRateLimit: 1 }
            """))
        let stage = api.stages[0]
        let canary = try XCTUnwrap(stage.canary)
        XCTAssertEqual(canary, CanarySettings(
            deploymentId: "canary1", percentTraffic: 12.5, stageVariableOverrides: ["host": "c"], useStageCache: true,
            sticky: .header("x-client-id")))
        XCTAssertEqual(canary.stageVariables(over: stage.variables), ["host": "c", "keep": "b"])
        // A canary's routes may have route settings too.
        XCTAssertEqual(stage.routeThrottles.keys.sorted(), ["POST /orders"])

        let minimal = try apiOf(Self.stage("canarySettings: { deploymentId: v1, sticky: { cookie: Session_ID } }"))
        XCTAssertEqual(minimal.stages[0].canary, CanarySettings(
            deploymentId: "v1", percentTraffic: 0, stageVariableOverrides: [:], useStageCache: false,
            sticky: .cookie("Session_ID")))
        XCTAssertNil(try apiOf(Self.base).stages[0].canary)
    }

    func testCanarySettingsAreValidated() {
        let yaml = Self.stage("""
            canarySettings:
              percentTraffic: 100.5
              stageVariableOverrides: { "bad-name": x, ok: "a b" }
              useStageCache: 1
              sticky: { header: X-A, cookie: b }
              weight: 3
          - stageName: other
            canarySettings: { deploymentId: nope, percentTraffic: -1 }
          - stageName: third
            canarySettings: { deploymentId: v1, percentTraffic: ten, sticky: {} }
          - stageName: fourth
            canarySettings: { deploymentId: v1, sticky: { cookie: "a;b" } }
        """)
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:35:11: apis[0].stages[0].canarySettings.deploymentId: missing required key "deploymentId" (the deployment the canary serves)"#,
            #"t.yaml:35:27: apis[0].stages[0].canarySettings.percentTraffic: must be at most 100, got 100.5"#,
            #"t.yaml:36:37: apis[0].stages[0].canarySettings.stageVariableOverrides["bad-name"]: a stage variable name is letters, digits and "_", got "bad-name""#,
            #"t.yaml:36:56: apis[0].stages[0].canarySettings.stageVariableOverrides.ok: a stage variable value must match [A-Za-z0-9-._~:/?#&=,]+, got "a b""#,
            #"t.yaml:37:26: apis[0].stages[0].canarySettings.useStageCache: expected true or false, got 1"#,
            #"t.yaml:38:19: apis[0].stages[0].canarySettings.sticky: sticky takes exactly one of header: NAME or cookie: NAME, not both"#,
            #"t.yaml:39:11: apis[0].stages[0].canarySettings.weight: unknown key "weight" (expected one of: deploymentId, percentTraffic, stageVariableOverrides, useStageCache, sticky)"#,
            #"t.yaml:41:41: apis[0].stages[1].canarySettings.deploymentId: names no deployment of api "shop": "nope" (deployments: "v1", "canary1")"#,
            #"t.yaml:41:63: apis[0].stages[1].canarySettings.percentTraffic: must be at least 0, got -1"#,
            #"t.yaml:43:61: apis[0].stages[2].canarySettings.percentTraffic: expected a number, got "ten""#,
            #"t.yaml:43:74: apis[0].stages[2].canarySettings.sticky: sticky takes exactly one of header: NAME or cookie: NAME"#,
            #"t.yaml:45:63: apis[0].stages[3].canarySettings.sticky.cookie: expected a cookie name, got "a;b""#,
        ])
    }

    // MARK: stage cache

    func testStageCacheDefaultsFollowAWS() throws {
        let stage = try apiOf(Self.stage("cacheClusterEnabled: true")).stages[0]
        let cache = try XCTUnwrap(stage.cache)
        XCTAssertEqual(cache, StageCacheSettings(
            capacity: .clusterSize(.gb0_5), cacheStatusHeader: "x-cache", requireAuthorizationForCacheControl: true,
            unauthorizedCacheControlHeaderStrategy: .succeedWithResponseHeader,
            cacheInvalidationScopes: ["execute-api:InvalidateCache"]))
        XCTAssertEqual(cache.capacityBytes, 536_870_912)
        XCTAssertEqual(stage.defaultRouteCacheSettings, RouteCacheSettings.disabled)
        XCTAssertEqual(RouteCacheSettings.disabled, RouteCacheSettings(
            cachingEnabled: false, cacheTtlInSeconds: 300, cacheKeyParameters: [], cacheDataEncrypted: false,
            requireAuthorizationForCacheControl: true, unauthorizedCacheControlHeaderStrategy: .succeedWithResponseHeader))
        XCTAssertEqual(stage.routeCacheSettings, [:])
        XCTAssertNil(stage.cacheSettings(routeKey: "GET /pets/{petId}", method: "GET"))

        let off = try apiOf(Self.stage("cacheClusterSize: \"6.1\"")).stages[0]
        XCTAssertNil(off.cache, "a size alone does not enable the cache")
        XCTAssertNil(try apiOf(Self.base).stages[0].cache)
    }

    func testStageCacheFields() throws {
        let stage = try apiOf(Self.stage("""
            cacheClusterEnabled: true
            cacheClusterSize: "237"
            cacheStatusHeader: X-Turnpike-Cache
            requireAuthorizationForCacheControl: false
            unauthorizedCacheControlHeaderStrategy: FAIL_WITH_403
            cacheInvalidationScopes: ["cache/invalidate", "admin"]
        """)).stages[0]
        XCTAssertEqual(stage.cache, StageCacheSettings(
            capacity: .clusterSize(.gb237), cacheStatusHeader: "x-turnpike-cache", requireAuthorizationForCacheControl: false,
            unauthorizedCacheControlHeaderStrategy: .failWith403, cacheInvalidationScopes: ["cache/invalidate", "admin"]))
        XCTAssertEqual(stage.cache?.capacityBytes, 237 * 1_073_741_824)
        // The stage's cache-control fields are the routes' defaults.
        XCTAssertFalse(stage.defaultRouteCacheSettings.requireAuthorizationForCacheControl)
        XCTAssertEqual(stage.defaultRouteCacheSettings.unauthorizedCacheControlHeaderStrategy, .failWith403)

        let bytes = try apiOf(Self.stage("cacheClusterEnabled: true\ncacheCapacityBytes: 1048576")).stages[0]
        XCTAssertEqual(bytes.cache?.capacity, .bytes(1_048_576))
        XCTAssertEqual(bytes.cache?.capacityBytes, 1_048_576)
        XCTAssertEqual(CacheClusterSize.allCases.map(\.rawValue), ["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"])
        XCTAssertEqual(CacheClusterSize.gb1_6.bytes, 1_717_986_918)
    }

    func testStageCacheFieldsAreValidated() {
        let yaml = Self.stage("""
            cacheClusterEnabled: "yes"
            cacheClusterSize: 1
            cacheStatusHeader: "x cache"
            unauthorizedCacheControlHeaderStrategy: IGNORE
            cacheInvalidationScopes: "a"
            requireAuthorizationForCacheControl: 0
          - stageName: both
            cacheClusterSize: "0.5"
            cacheCapacityBytes: 100
          - stageName: zero
            cacheCapacityBytes: 0
            cacheInvalidationScopes: ["a b"]
        """)
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:34:30: apis[0].stages[0].cacheClusterEnabled: expected true or false, got "yes""#,
            #"t.yaml:35:27: apis[0].stages[0].cacheClusterSize: unknown cacheClusterSize "1" (expected "0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")"#,
            #"t.yaml:36:28: apis[0].stages[0].cacheStatusHeader: expected a header name, got "x cache""#,
            #"t.yaml:37:49: apis[0].stages[0].unauthorizedCacheControlHeaderStrategy: unknown unauthorizedCacheControlHeaderStrategy "IGNORE" (expected "FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER")"#,
            #"t.yaml:38:34: apis[0].stages[0].cacheInvalidationScopes: expected a list, got "a""#,
            #"t.yaml:39:46: apis[0].stages[0].requireAuthorizationForCacheControl: expected true or false, got 0"#,
            #"t.yaml:42:9: apis[0].stages[1].cacheCapacityBytes: give cacheClusterSize (AWS's sizes in GB) or cacheCapacityBytes, not both"#,
            #"t.yaml:44:29: apis[0].stages[2].cacheCapacityBytes: must be at least 1, got 0"#,
            #"t.yaml:45:35: apis[0].stages[2].cacheInvalidationScopes[0]: a scope is a non-empty word without spaces, got "a b""#,
        ])
    }

    // MARK: route cache settings

    func testRouteCacheSettingsInheritFieldByField() throws {
        let stage = try apiOf(Self.stage("""
            cacheClusterEnabled: true
            canarySettings: { deploymentId: canary1, percentTraffic: 5 }
            unauthorizedCacheControlHeaderStrategy: SUCCEED_WITHOUT_RESPONSE_HEADER
            defaultRouteSettings:
              cachingEnabled: true
              cacheTtlInSeconds: 60
              cacheKeyParameters: ["method.request.querystring.page"]
            routeSettings:
              "GET /pets/{petId}":
                cacheTtlInSeconds: 10
                cacheKeyParameters: ["method.request.path.petId", "method.request.header.Accept-Language"]
                cacheDataEncrypted: true
                requireAuthorizationForCacheControl: false
              "POST /orders": { cachingEnabled: true, unauthorizedCacheControlHeaderStrategy: FAIL_WITH_403 }
              "ANY /{proxy+}": { throttlingBurstLimit: 5, throttlingRateLimit: 1 }
        """)).stages[0]
        let byDefault = RouteCacheSettings(
            cachingEnabled: true, cacheTtlInSeconds: 60, cacheKeyParameters: [.querystring("page")],
            cacheDataEncrypted: false, requireAuthorizationForCacheControl: true,
            unauthorizedCacheControlHeaderStrategy: .succeedWithoutResponseHeader)
        XCTAssertEqual(stage.defaultRouteCacheSettings, byDefault)
        let pets = RouteCacheSettings(
            cachingEnabled: true, cacheTtlInSeconds: 10, cacheKeyParameters: [.path("petId"), .header("accept-language")],
            cacheDataEncrypted: true, requireAuthorizationForCacheControl: false,
            unauthorizedCacheControlHeaderStrategy: .succeedWithoutResponseHeader)
        let orders = RouteCacheSettings(
            cachingEnabled: true, cacheTtlInSeconds: 60, cacheKeyParameters: [.querystring("page")],
            cacheDataEncrypted: false, requireAuthorizationForCacheControl: true,
            unauthorizedCacheControlHeaderStrategy: .failWith403)
        // Only entries that set a cache field get their own settings.
        XCTAssertEqual(stage.routeCacheSettings, ["GET /pets/{petId}": pets, "POST /orders": orders])
        XCTAssertEqual(pets.cacheKeyParameters.map(\.text),
                       ["method.request.path.petId", "method.request.header.accept-language"])

        // AWS caches GET only, unless a route's own settings enable its (non-ANY) method.
        XCTAssertEqual(stage.cacheSettings(routeKey: "GET /pets/{petId}", method: "GET"), pets)
        XCTAssertEqual(stage.cacheSettings(routeKey: "ANY /{proxy+}", method: "GET"), byDefault)
        XCTAssertNil(stage.cacheSettings(routeKey: "ANY /{proxy+}", method: "POST"))
        XCTAssertEqual(stage.cacheSettings(routeKey: "POST /orders", method: "POST"), orders)
        XCTAssertNil(stage.cacheSettings(routeKey: "POST /orders", method: "PUT"))
    }

    func testTtlZeroOrCachingOffMeansNotCached() throws {
        let stage = try apiOf(Self.stage("""
            cacheClusterEnabled: true
            defaultRouteSettings: { cachingEnabled: true, cacheTtlInSeconds: 0 }
            routeSettings:
              "GET /pets/{petId}": { cacheTtlInSeconds: 3600 }
              "ANY /{proxy+}": { cachingEnabled: false, cacheTtlInSeconds: 30 }
        """)).stages[0]
        XCTAssertNil(stage.cacheSettings(routeKey: "ANY /{proxy+}", method: "GET"))
        XCTAssertEqual(stage.cacheSettings(routeKey: "GET /pets/{petId}", method: "GET")?.cacheTtlInSeconds, 3600)
        XCTAssertNil(stage.cacheSettings(routeKey: "$default", method: "GET"))
    }

    func testCachingEnabledNeedsTheStageCache() {
        let yaml = Self.stage("""
            defaultRouteSettings: { cachingEnabled: true }
            routeSettings:
              "GET /pets/{petId}": { cachingEnabled: true }
              "ANY /{proxy+}": { cachingEnabled: false }
          - stageName: off
            cacheClusterEnabled: false
            routeSettings:
              "GET /pets/{petId}": { cachingEnabled: true }
        """)
        let message = "caching needs the stage's cache: set cacheClusterEnabled: true on the stage"
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:34:49: apis[0].stages[0].defaultRouteSettings.cachingEnabled: "# + message,
            #"t.yaml:36:50: apis[0].stages[0].routeSettings["GET /pets/{petId}"].cachingEnabled: "# + message,
            #"t.yaml:41:50: apis[0].stages[1].routeSettings["GET /pets/{petId}"].cachingEnabled: "# + message,
        ])
    }

    func testRouteCacheFieldsAreValidated() {
        let yaml = Self.stage("""
            cacheClusterEnabled: true
            canarySettings: { deploymentId: canary1 }
            defaultRouteSettings:
              cacheTtlInSeconds: 3601
              cacheKeyParameters: ["method.request.path.petId", "request.header.x", "method.request.header.a b"]
            routeSettings:
              "GET /pets/{petId}":
                cacheTtlInSeconds: -1
                cacheDataEncrypted: "no"
                cacheKeyParameters:
                  - method.request.path.id
                  - method.request.querystring.q
                  - method.request.querystring.q
                  - method.request.header.X-A
                  - method.request.header.x-a
                  - method.request.querystring.
              "ANY /{proxy+}": { cacheKeyParameters: "method.request.path.proxy", cachingEnabled: maybe }
              "POST /orders": { cacheKeyParameters: ["method.request.path.id"], unauthorizedCacheControlHeaderStrategy: NO }
        """)
        let forms = "expected one of method.request.path.NAME, method.request.querystring.NAME, method.request.header.NAME"
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:37:30: apis[0].stages[0].defaultRouteSettings.cacheTtlInSeconds: must be at least 0 and at most 3600, got 3601"#,
            #"t.yaml:38:32: apis[0].stages[0].defaultRouteSettings.cacheKeyParameters[0]: a path cache key parameter belongs to a route: put "method.request.path.petId" in routeSettings for the routes with {petId}"#,
            #"t.yaml:38:61: apis[0].stages[0].defaultRouteSettings.cacheKeyParameters[1]: invalid cache key parameter "request.header.x"; "# + forms,
            #"t.yaml:38:81: apis[0].stages[0].defaultRouteSettings.cacheKeyParameters[2]: invalid cache key parameter "method.request.header.a b"; "# + forms,
            #"t.yaml:41:32: apis[0].stages[0].routeSettings["GET /pets/{petId}"].cacheTtlInSeconds: must be at least 0 and at most 3600, got -1"#,
            #"t.yaml:42:33: apis[0].stages[0].routeSettings["GET /pets/{petId}"].cacheDataEncrypted: expected true or false, got "no""#,
            #"t.yaml:44:17: apis[0].stages[0].routeSettings["GET /pets/{petId}"].cacheKeyParameters[0]: route "GET /pets/{petId}" has no path variable "id" (it has petId)"#,
            #"t.yaml:46:17: apis[0].stages[0].routeSettings["GET /pets/{petId}"].cacheKeyParameters[2]: duplicate cache key parameter "method.request.querystring.q" (first used at line 45)"#,
            #"t.yaml:48:17: apis[0].stages[0].routeSettings["GET /pets/{petId}"].cacheKeyParameters[4]: duplicate cache key parameter "method.request.header.x-a" (first used at line 47)"#,
            #"t.yaml:49:17: apis[0].stages[0].routeSettings["GET /pets/{petId}"].cacheKeyParameters[5]: invalid cache key parameter "method.request.querystring."; "# + forms,
            #"t.yaml:50:50: apis[0].stages[0].routeSettings["ANY /{proxy+}"].cacheKeyParameters: expected a list, got "method.request.path.proxy""#,
            #"t.yaml:50:95: apis[0].stages[0].routeSettings["ANY /{proxy+}"].cachingEnabled: expected true or false, got "maybe""#,
            #"t.yaml:51:50: apis[0].stages[0].routeSettings["POST /orders"].cacheKeyParameters[0]: route "POST /orders" has no path variable "id" (it has none)"#,
            #"t.yaml:51:117: apis[0].stages[0].routeSettings["POST /orders"].unauthorizedCacheControlHeaderStrategy: unknown unauthorizedCacheControlHeaderStrategy "NO" (expected "FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER")"#,
        ])
    }

    func testGreedyPathVariableIsACacheKeyParameterWithoutThePlus() throws {
        let stage = try apiOf(Self.stage("""
            cacheClusterEnabled: true
            routeSettings:
              "ANY /{proxy+}": { cachingEnabled: true, cacheKeyParameters: ["method.request.path.proxy"] }
        """)).stages[0]
        XCTAssertEqual(stage.routeCacheSettings["ANY /{proxy+}"]?.cacheKeyParameters, [.path("proxy")])
    }

    // MARK: JSON

    func testJsonFormOfEveryNewKey() throws {
        let json = #"""
            {
              "listeners": [{ "name": "public", "port": 8080 }],
              "apis": [{
                "name": "shop",
                "corsConfiguration": { "allowOrigins": ["https://app.example.com"], "allowMethods": ["GET"],
                                       "allowHeaders": ["authorization"], "exposeHeaders": ["x-request-id"],
                                       "maxAge": 300, "allowCredentials": true },
                "integrations": [{ "name": "backend", "integrationType": "HTTP_PROXY",
                                   "integrationUri": "http://127.0.0.1:9001/{proxy}" }],
                "routes": [{ "routeKey": "GET /items/{proxy+}", "target": "backend" }],
                "deployments": [{ "deploymentId": "d1", "description": "snapshot",
                                  "integrations": [{ "name": "b1", "integrationType": "HTTP_PROXY",
                                                     "integrationUri": "http://127.0.0.1:9001/{proxy}" }],
                                  "routes": [{ "routeKey": "GET /items/{proxy+}", "target": "b1" }] }],
                "stages": [{
                  "stageName": "prod", "deploymentId": "d1",
                  "cacheClusterEnabled": true, "cacheCapacityBytes": 65536, "cacheStatusHeader": "x-cache",
                  "requireAuthorizationForCacheControl": true,
                  "unauthorizedCacheControlHeaderStrategy": "FAIL_WITH_403",
                  "cacheInvalidationScopes": ["cache/flush"],
                  "defaultRouteSettings": { "cachingEnabled": true, "cacheTtlInSeconds": 120 },
                  "routeSettings": { "GET /items/{proxy+}": { "cacheKeyParameters": ["method.request.path.proxy"] } },
                  "canarySettings": { "deploymentId": "d1", "percentTraffic": 0.5,
                                      "stageVariableOverrides": { "v": "canary" }, "useStageCache": false,
                                      "sticky": { "cookie": "session" } }
                }]
              }]
            }
            """#
        let api = try apiOf(json)
        XCTAssertEqual(api.corsConfiguration?.allowOrigins, [.exact("https://app.example.com")])
        XCTAssertEqual(api.corsConfiguration?.maxAge, 300)
        XCTAssertEqual(api.deployments, [Deployment(
            id: "d1", description: "snapshot", routes: [Route(routeKey: "GET /items/{proxy+}", integrationName: "b1")],
            integrations: api.deployments.first?.integrations ?? [])])
        let stage = api.stages[0]
        XCTAssertEqual(stage.deploymentId, "d1")
        XCTAssertEqual(stage.cache, StageCacheSettings(
            capacity: .bytes(65536), cacheStatusHeader: "x-cache", requireAuthorizationForCacheControl: true,
            unauthorizedCacheControlHeaderStrategy: .failWith403, cacheInvalidationScopes: ["cache/flush"]))
        XCTAssertEqual(stage.cacheSettings(routeKey: "GET /items/{proxy+}", method: "GET"), RouteCacheSettings(
            cachingEnabled: true, cacheTtlInSeconds: 120, cacheKeyParameters: [.path("proxy")],
            unauthorizedCacheControlHeaderStrategy: .failWith403))
        XCTAssertEqual(stage.canary, CanarySettings(
            deploymentId: "d1", percentTraffic: 0.5, stageVariableOverrides: ["v": "canary"], useStageCache: false,
            sticky: .cookie("session")))
    }
}
