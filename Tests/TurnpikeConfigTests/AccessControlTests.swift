import XCTest
import TurnpikeConfig

/// A config with one JWT authorizer, an api with two routes and a prod stage; tests splice in more.
let accessConfig = """
    listeners:
      - name: public
        port: 8080
    authorizers:
      - name: jwt
        authorizerType: JWT
        jwtConfiguration:
          issuer: https://idp.example.com
          audience: [app]
    apis:
      - name: shop
        integrations:
          - name: backend
            integrationType: HTTP_PROXY
            integrationUri: http://127.0.0.1:9001/{proxy}
        routes:
          - routeKey: ANY /{proxy+}
            target: backend
          - routeKey: GET /orders
            target: backend
        stages:
          - stageName: prod
          - stageName: $default
    """

/// Parses `yaml` with `environment` expecting failure; returns the issues as printed lines.
private func issueLines(_ yaml: String, environment: [String: String], line: UInt = #line) -> [String] {
    do {
        _ = try ConfigLoader.parse(text: yaml, fileName: "t.yaml", environment: environment)
        XCTFail("expected issues", line: line)
        return []
    } catch {
        return error.issues.map(\.description)
    }
}

/// JWT authorizers, route authorization, API keys, usage plans and throttles.
final class AccessControlTests: XCTestCase {
    // MARK: defaults

    func testOmittedAccessControlFieldsTakeTheirDefaults() throws {
        let config = try XCTUnwrap(parsed(accessConfig))
        XCTAssertEqual(config.authorizers, [JWTAuthorizerConfig(
            name: "jwt", identitySource: .header("authorization"), issuer: "https://idp.example.com",
            audience: ["app"], jwks: .discovery, caBundle: nil, clockSkewSeconds: 60, jwksRefreshSeconds: 300)])
        let api = config.apis[0]
        XCTAssertEqual(api.apiKeySource, .header)
        XCTAssertEqual(api.routes[0], Route(
            routeKey: "ANY /{proxy+}", integrationName: "backend", authorizationType: .none, authorizerName: nil,
            authorizationScopes: [], apiKeyRequired: false))
        XCTAssertNil(api.stages[0].defaultRouteThrottle)
        XCTAssertEqual(api.stages[0].routeThrottles, [:])
        XCTAssertEqual(config.settings.throttle, ThrottleSettings(burstLimit: 5000, rateLimit: 10000))
        XCTAssertEqual(config.settings.throttle, .accountDefault)
        XCTAssertNil(config.settings.clientIpThrottle)
        XCTAssertEqual(config.settings.quotaStorePath, "turnpike-usage.sqlite")
        XCTAssertEqual(config.apiKeys, [])
        XCTAssertEqual(config.usagePlans, [])
    }

    func testRelativePathsResolveAgainstTheConfigFilesFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("turnpike-access-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("turnpike.yaml")
        let yaml = accessConfig.replacingOccurrences(of: "      audience: [app]", with: """
                  audience: [app]
                  jwksUri: file://./keys/jwks.json
                  caBundle: ./ca.pem
            """) + "\nsettings: { quotaStorePath: ./data/usage.sqlite }"
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(path: file.path, environment: [:])
        XCTAssertEqual(config.authorizers[0].jwks, .file(path: folder.path + "/keys/jwks.json"))
        XCTAssertEqual(config.authorizers[0].caBundle, folder.path + "/ca.pem")
        XCTAssertEqual(config.settings.quotaStorePath, folder.path + "/data/usage.sqlite")

        try accessConfig.write(to: file, atomically: true, encoding: .utf8)
        let defaults = try ConfigLoader.load(path: file.path, environment: [:])
        XCTAssertEqual(defaults.settings.quotaStorePath, folder.path + "/turnpike-usage.sqlite")
    }

    // MARK: JWT authorizers

    func testJwtAuthorizerTakesEveryFieldInItsFullForm() throws {
        let yaml = accessConfig.replacingOccurrences(of: """
                authorizerType: JWT
                jwtConfiguration:
                  issuer: https://idp.example.com
                  audience: [app]
            """, with: """
                authorizerType: JWT
                identitySource: ["$request.querystring.access_token"]
                jwtConfiguration:
                  issuer: http://127.0.0.1:8000/realms/main
                  audience: [app, cli]
                  jwksUri: https://idp.example.com/keys
                  clockSkewSeconds: 0
                  jwksRefreshSeconds: 3600
            """)
        let authorizer = try XCTUnwrap(parsed(yaml)?.authorizers.first)
        XCTAssertEqual(authorizer, JWTAuthorizerConfig(
            name: "jwt", identitySource: .queryString("access_token"), issuer: "http://127.0.0.1:8000/realms/main",
            audience: ["app", "cli"], jwks: .url("https://idp.example.com/keys"), caBundle: nil,
            clockSkewSeconds: 0, jwksRefreshSeconds: 3600))

        let header = accessConfig.replacingOccurrences(
            of: "authorizerType: JWT\n", with: "authorizerType: JWT\n    identitySource: [\"$request.header.X-Token\"]\n")
        XCTAssertEqual(parsed(header)?.authorizers.first?.identitySource, .header("x-token"))
    }

    func testJwtAuthorizerMissingOrMistypedFieldsAreEachReported() {
        let yaml = """
            listeners: [{ name: public, port: 8080 }]
            authorizers:
              - name: a
                authorizerType: JWT
              - name: b
                authorizerType: JWT
                jwtConfiguration: { audience: app, jwksUri: "ftp://keys", clockSkewSeconds: -1, jwksRefreshSeconds: 0 }
              - name: c
                authorizerType: JWT
                jwtConfiguration: { issuer: idp.example.com, audience: [], caBundle: "" }
              - authorizerType: JWT
                jwtConfiguration: { issuer: "https://idp", audience: [""], clockSkew: 5 }
            apis: [{ name: shop, stages: [{ stageName: $default }] }]
            """
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:3:5: authorizers[0].jwtConfiguration: missing required key "jwtConfiguration" (a JWT authorizer needs issuer and audience)"#,
            #"t.yaml:7:23: authorizers[1].jwtConfiguration.issuer: missing required key "issuer""#,
            #"t.yaml:7:35: authorizers[1].jwtConfiguration.audience: expected a list, got "app""#,
            #"t.yaml:7:49: authorizers[1].jwtConfiguration.jwksUri: expected file://PATH or an https:// or http:// URL, got "ftp://keys""#,
            #"t.yaml:7:81: authorizers[1].jwtConfiguration.clockSkewSeconds: must be at least 0 and at most 600, got -1"#,
            #"t.yaml:7:105: authorizers[1].jwtConfiguration.jwksRefreshSeconds: must be at least 1 and at most 86400, got 0"#,
            #"t.yaml:10:33: authorizers[2].jwtConfiguration.issuer: expected an https:// or http:// URL, got "idp.example.com""#,
            #"t.yaml:10:60: authorizers[2].jwtConfiguration.audience: a JWT authorizer needs at least one audience"#,
            #"t.yaml:10:74: authorizers[2].jwtConfiguration.caBundle: expected a file path, got """#,
            #"t.yaml:11:5: authorizers[3].name: missing required key "name""#,
            #"t.yaml:12:59: authorizers[3].jwtConfiguration.audience[0]: must not be empty"#,
            #"t.yaml:12:64: authorizers[3].jwtConfiguration.clockSkew: unknown key "clockSkew" (expected one of: issuer, audience, jwksUri, caBundle, clockSkewSeconds, jwksRefreshSeconds)"#,
        ])
    }

    func testJwtIdentitySourceIsOneHeaderOrQueryStringAsInAws() {
        func lines(_ source: String) -> [String] {
            issueLines(accessConfig.replacingOccurrences(
                of: "authorizerType: JWT\n", with: "authorizerType: JWT\n    identitySource: \(source)\n"))
        }
        XCTAssertEqual(lines(#"["$request.cookie.token"]"#), [
            #"t.yaml:7:22: authorizers[0].identitySource[0]: a JWT authorizer reads the token from "$request.header.NAME" or "$request.querystring.NAME", got "$request.cookie.token""#,
        ])
        XCTAssertEqual(lines(#"["$request.header.Authorization", "$request.querystring.token"]"#), [
            #"t.yaml:7:21: authorizers[0].identitySource: a JWT authorizer takes exactly one identity source, got 2"#,
        ])
        XCTAssertEqual(lines(#""$request.header.Authorization""#), [
            #"t.yaml:7:21: authorizers[0].identitySource: expected a list, got "$request.header.Authorization""#,
        ])
        XCTAssertEqual(lines(#"["$request.header.bad header"]"#), [
            #"t.yaml:7:22: authorizers[0].identitySource[0]: a JWT authorizer reads the token from "$request.header.NAME" or "$request.querystring.NAME", got "$request.header.bad header""#,
        ])
    }

    func testLambdaAuthorizerMistakesAndUnknownTypesAreReported() {
        let yaml = accessConfig.replacingOccurrences(of: "apis:\n", with: """
              - name: lambda
                authorizerType: REQUEST
                authorizerUri: function:auth
                authorizerResultTtlInSeconds: 300
              - name: token
                authorizerType: TOKEN
              - name: odd
                authorizerType: OIDC
              - name: untyped
              - name: jwt2
                authorizerType: JWT
                authorizerUri: function:auth
                jwtConfiguration: { issuer: "https://idp", audience: [app] }
              - name: jwt
                authorizerType: JWT
                jwtConfiguration: { issuer: "https://idp", audience: [app] }
            apis:

            """)
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:10:5: authorizers[1].identitySource: caching authorizer results (authorizerResultTtlInSeconds > 0) needs at least one identity source"#,
            #"t.yaml:12:20: authorizers[1].authorizerUri: names no function: "auth" (no functions are configured)"#,
            #"t.yaml:14:5: authorizers[2].authorizerUri: missing required key "authorizerUri""#,
            #"t.yaml:14:5: authorizers[2].identitySource: a TOKEN authorizer reads one header: "method.request.header.NAME""#,
            #"t.yaml:17:21: authorizers[3].authorizerType: unknown authorizerType "OIDC" (expected "JWT", "REQUEST", "TOKEN", "COGNITO_USER_POOLS")"#,
            #"t.yaml:18:5: authorizers[4].authorizerType: missing required key "authorizerType""#,
            #"t.yaml:21:5: authorizers[5].authorizerUri: "authorizerUri" belongs to Lambda authorizers; a JWT authorizer does not take it"#,
            #"t.yaml:23:11: authorizers[6].name: duplicate authorizer name "jwt" (first used at line 5)"#,
        ])
    }

    // MARK: route authorization

    func testJwtRouteNamesItsAuthorizerAndScopes() throws {
        let yaml = accessConfig.replacingOccurrences(of: "    target: backend\n    stages:", with: """
                target: backend
                    authorizationType: JWT
                    authorizer: jwt
                    authorizationScopes: ["orders/read", "admin"]
                    apiKeyRequired: true
                stages:
            """)
        let route = try XCTUnwrap(parsed(yaml)?.apis[0].routes[1])
        XCTAssertEqual(route, Route(
            routeKey: "GET /orders", integrationName: "backend", authorizationType: .jwt, authorizerName: "jwt",
            authorizationScopes: ["orders/read", "admin"], apiKeyRequired: true))
    }

    func testRouteAuthorizationMistakesAreEachReported() {
        let yaml = accessConfig.replacingOccurrences(
            of: "  - name: jwt\n", with: "  - name: lambda\n    authorizerType: REQUEST\n  - name: jwt\n"
        ).replacingOccurrences(of: "      - routeKey: GET /orders\n        target: backend\n", with: """
                  - { routeKey: GET /a, target: backend, authorizationType: JWT }
                  - { routeKey: GET /b, target: backend, authorizationType: JWT, authorizer: jtw }
                  - { routeKey: GET /c, target: backend, authorizationType: JWT, authorizer: lambda }
                  - { routeKey: GET /d, target: backend, authorizationScopes: [read] }
                  - { routeKey: GET /e, target: backend, authorizationType: NONE, authorizer: jwt }
                  - { routeKey: GET /f, target: backend, authorizationType: CUSTOM, authorizer: lambda }
                  - { routeKey: GET /g, target: backend, authorizationType: AWS_IAM }
                  - { routeKey: GET /h, target: backend, authorizationType: jwt }
                  - { routeKey: GET /i, target: backend, apiKeyRequired: "yes" }
                  - { routeKey: GET /j, target: backend, apiKeyRequired: 1 }
                  - { routeKey: GET /k, target: backend, authorizationType: JWT, authorizer: jwt, authorizationScopes: read }

            """)
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:5:5: authorizers[0].authorizerUri: missing required key "authorizerUri""#,
            #"t.yaml:5:5: authorizers[0].identitySource: caching authorizer results (authorizerResultTtlInSeconds > 0) needs at least one identity source"#,
            #"t.yaml:21:9: apis[0].routes[1].authorizer: missing required key "authorizer" (authorizationType JWT names a JWT authorizer)"#,
            #"t.yaml:22:82: apis[0].routes[2].authorizer: names no authorizer: "jtw" (authorizers: "jwt", "lambda")"#,
            #"t.yaml:23:82: apis[0].routes[3].authorizer: authorizer "lambda" is a REQUEST authorizer; authorizationType JWT needs a JWT authorizer"#,
            #"t.yaml:24:46: apis[0].routes[4].authorizationScopes: authorizationScopes are used only with authorizationType JWT (this route's is NONE)"#,
            #"t.yaml:25:71: apis[0].routes[5].authorizer: an authorizer is used only with authorizationType JWT or CUSTOM (this route's is NONE)"#,
            #"t.yaml:27:65: apis[0].routes[7].authorizationType: authorizationType "AWS_IAM" is not supported yet (IAM authorization)"#,
            #"t.yaml:28:65: apis[0].routes[8].authorizationType: unknown authorizationType "jwt" (expected "NONE", "JWT", "CUSTOM", "AWS_IAM")"#,
            #"t.yaml:29:62: apis[0].routes[9].apiKeyRequired: expected true or false, got "yes""#,
            #"t.yaml:30:62: apis[0].routes[10].apiKeyRequired: expected true or false, got 1"#,
            #"t.yaml:31:108: apis[0].routes[11].authorizationScopes: expected a list, got "read""#,
        ])
    }

    func testRouteNamingAnAuthorizerWhenTheFileHasNoneSaysSo() {
        let yaml = minimalConfig.replacingOccurrences(
            of: "target: backend", with: "target: backend\n        authorizationType: JWT\n        authorizer: auth")
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:14:21: apis[0].routes[0].authorizer: names no authorizer: "auth" (the file has no authorizers)"#,
        ])
    }

    func testApiKeySourceIsHeaderOrAuthorizer() {
        let header = minimalConfig.replacingOccurrences(of: "  - name: shop\n", with: "  - name: shop\n    apiKeySource: HEADER\n")
        XCTAssertEqual(parsed(header)?.apis[0].apiKeySource, .header)
        let authorizer = minimalConfig.replacingOccurrences(of: "  - name: shop\n", with: "  - name: shop\n    apiKeySource: AUTHORIZER\n")
        XCTAssertEqual(parsed(authorizer)?.apis[0].apiKeySource, .authorizer)
        let unknown = minimalConfig.replacingOccurrences(of: "  - name: shop\n", with: "  - name: shop\n    apiKeySource: QUERY\n")
        XCTAssertEqual(issueLines(unknown), [
            #"t.yaml:6:19: apis[0].apiKeySource: unknown apiKeySource "QUERY" (expected "HEADER", "AUTHORIZER")"#,
        ])
    }

    // MARK: API keys

    func testApiKeysTakeAValueOrAnEnvironmentVariableAndDeriveTheirIds() throws {
        let yaml = minimalConfig + """

            apiKeys:
              - name: partner-acme
                value: "acme-0123456789abcdef0123"
              - name: internal
                id: key01
                valueFrom: env:INTERNAL_KEY
                enabled: false
                description: For the batch jobs.
            """
        let config = try ConfigLoader.parse(
            text: yaml, fileName: "t.yaml", environment: ["INTERNAL_KEY": "internal-key-0123456789"])
        XCTAssertEqual(config.apiKeys, [
            // FNV-1a 64 of "partner-acme", first ten hex digits, like generated api ids.
            ApiKeyConfig(id: "e57775c82a", name: "partner-acme", value: "acme-0123456789abcdef0123", enabled: true, description: nil),
            ApiKeyConfig(id: "key01", name: "internal", value: "internal-key-0123456789", enabled: false,
                         description: "For the batch jobs."),
        ])
    }

    func testApiKeyValuesFollowAwsLengthRulesAndMustBeUnique() {
        let long = String(repeating: "k", count: 129)
        let yaml = minimalConfig + """

            apiKeys:
              - { name: short, value: "too-short" }
              - { name: long, value: "\(long)" }
              - { name: spaced, value: "has a space in the key value" }
              - { name: neither }
              - { name: both, value: "0123456789abcdefghij", valueFrom: "env:KEY" }
              - { name: unset, valueFrom: "env:NOT_SET" }
              - { name: malformed, valueFrom: "KEY" }
              - { name: weak, valueFrom: "env:WEAK" }
              - { name: first, value: "0123456789abcdefghij" }
              - { name: copy, value: "0123456789abcdefghij" }
              - { name: first, value: "0123456789abcdefghijk" }
              - { name: badid, id: Key-1, value: "0123456789abcdefghijkl" }
              - { name: sameid, id: key1, value: "0123456789abcdefghijklm" }
              - { name: sameid2, id: key1, value: "0123456789abcdefghijklmn", enabled: "no" }
            """
        XCTAssertEqual(issueLines(yaml, environment: ["WEAK": "short"]), [
            #"t.yaml:16:27: apiKeys[0].value: an api key value is 20 to 128 characters, got 9"#,
            #"t.yaml:17:26: apiKeys[1].value: an api key value is 20 to 128 characters, got 129"#,
            #"t.yaml:18:28: apiKeys[2].value: an api key value is visible ASCII characters only (no spaces), got other characters"#,
            #"t.yaml:19:5: apiKeys[3].value: missing required key "value" (or valueFrom: "env:NAME")"#,
            #"t.yaml:20:50: apiKeys[4].valueFrom: give either value or valueFrom, not both"#,
            #"t.yaml:21:31: apiKeys[5].valueFrom: environment variable "NOT_SET" is not set"#,
            #"t.yaml:22:35: apiKeys[6].valueFrom: expected "env:NAME" (an environment variable), got "KEY""#,
            #"t.yaml:23:30: apiKeys[7].valueFrom: environment variable "WEAK" does not hold a valid api key value: an api key value is 20 to 128 characters, got 5"#,
            #"t.yaml:25:19: apiKeys[9].value: api key "copy" has the same value as api key "first"; values must be unique"#,
            #"t.yaml:26:13: apiKeys[10].name: duplicate api key name "first" (first used at line 24)"#,
            #"t.yaml:27:24: apiKeys[11].id: an api key id is 1 to 64 characters of a-z and 0-9, got "Key-1""#,
            #"t.yaml:29:22: apiKeys[13].id: api key id "key1" is already used by api key "sameid""#,
            #"t.yaml:29:76: apiKeys[13].enabled: expected true or false, got "no""#,
        ])
    }

    // MARK: usage plans

    func testUsagePlanWithPerRouteThrottleAndQuotaParses() throws {
        let yaml = accessConfig + """

            apiKeys:
              - { name: a, value: "aaaaaaaaaaaaaaaaaaaa" }
              - { name: b, value: "bbbbbbbbbbbbbbbbbbbb" }
            usagePlans:
              - name: Gold
                id: gold1
                description: Paying partners.
                apiStages:
                  - api: shop
                    stage: prod
                    throttle:
                      "GET /orders": { burstLimit: 10, rateLimit: 2.5 }
                  - { api: shop, stage: $default }
                throttle: { burstLimit: 200, rateLimit: 100 }
                quota: { limit: 5000, period: WEEK, offset: 1 }
                apiKeys: [a, b]
              - name: Free
                apiStages: []
            """
        let plans = try XCTUnwrap(parsed(yaml)?.usagePlans)
        XCTAssertEqual(plans, [
            UsagePlanConfig(
                id: "gold1", name: "Gold", description: "Paying partners.",
                apiStages: [
                    UsagePlanApiStage(apiName: "shop", stageName: "prod",
                                      routeThrottles: ["GET /orders": ThrottleSettings(burstLimit: 10, rateLimit: 2.5)]),
                    UsagePlanApiStage(apiName: "shop", stageName: "$default", routeThrottles: [:]),
                ],
                throttle: ThrottleSettings(burstLimit: 200, rateLimit: 100),
                quota: QuotaSettings(limit: 5000, period: .week, offset: 1),
                apiKeyNames: ["a", "b"]),
            UsagePlanConfig(id: plans[1].id, name: "Free", description: nil, apiStages: [], throttle: nil, quota: nil,
                            apiKeyNames: []),
        ])
        XCTAssertEqual(plans[1].id.count, 10)
    }

    func testUsagePlanNamingUnknownApiStageKeyOrRouteIsReported() {
        let yaml = accessConfig + """

            apiKeys:
              - { name: a, value: "aaaaaaaaaaaaaaaaaaaa" }
            usagePlans:
              - name: One
                apiStages:
                  - { api: shoppe, stage: prod }
                  - { api: shop, stage: test }
                  - { api: shop, stage: prod, throttle: { "GET /nothing": { burstLimit: 1, rateLimit: 1 } } }
                  - { api: shop, stage: prod }
                  - { api: shop, stage: $default, throttle: { "FETCH /orders": { burstLimit: 1, rateLimit: 1 } } }
                apiKeys: [a, b, a]
              - name: Two
                apiStages: [{ api: shop, stage: prod }]
                apiKeys: [a]
              - name: One
                apiStages: [{ stage: prod }]
            """
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:29:16: usagePlans[0].apiStages[0].api: names no api: "shoppe" (apis: "shop")"#,
            #"t.yaml:30:29: usagePlans[0].apiStages[1].stage: api "shop" has no stage "test" (stages: "prod", "$default")"#,
            #"t.yaml:31:47: usagePlans[0].apiStages[2].throttle["GET /nothing"]: names no route of api "shop": "GET /nothing" (routes: "ANY /{proxy+}", "GET /orders")"#,
            #"t.yaml:32:9: usagePlans[0].apiStages[3]: duplicate api stage "shop stage prod" (first used at line 31)"#,
            #"t.yaml:33:51: usagePlans[0].apiStages[4].throttle["FETCH /orders"]: invalid route key: unknown method "FETCH" (expected GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, ANY)"#,
            #"t.yaml:34:18: usagePlans[0].apiKeys[1]: names no api key: "b" (api keys: "a")"#,
            #"t.yaml:34:21: usagePlans[0].apiKeys[2]: duplicate api key "a" (first used at line 34)"#,
            #"t.yaml:37:15: usagePlans[1].apiKeys[0]: api key "a" is already in usage plan "One" for api "shop" stage "prod"; a key may be in only one usage plan per api stage"#,
            #"t.yaml:38:11: usagePlans[2].name: duplicate usage plan name "One" (first used at line 27)"#,
            #"t.yaml:39:17: usagePlans[2].apiStages[0].api: missing required key "api""#,
        ])
    }

    func testQuotaPeriodAndOffsetFollowAwsRules() {
        func lines(_ quota: String) -> [String] {
            issueLines(accessConfig + "\nusagePlans: [{ name: p, quota: \(quota) }]")
        }
        XCTAssertEqual(lines("{ limit: 10, period: YEAR }"), [
            #"t.yaml:24:53: usagePlans[0].quota.period: unknown period "YEAR" (expected "DAY", "WEEK", "MONTH")"#,
        ])
        XCTAssertEqual(lines("{ limit: 10, period: DAY, offset: 1 }"), [
            #"t.yaml:24:66: usagePlans[0].quota.offset: for period DAY the offset must be 0, got 1"#,
        ])
        XCTAssertEqual(lines("{ limit: 10, period: WEEK, offset: 7 }"), [
            #"t.yaml:24:67: usagePlans[0].quota.offset: for period WEEK the offset is 0 (Sunday) to 6 (Saturday), got 7"#,
        ])
        XCTAssertEqual(lines("{ limit: 10, period: MONTH, offset: 31 }"), [
            #"t.yaml:24:68: usagePlans[0].quota.offset: for period MONTH the offset is 0 (the 1st) to 30 (the 31st), got 31"#,
        ])
        XCTAssertEqual(lines("{ limit: 0, period: MONTH, offset: -1 }"), [
            #"t.yaml:24:41: usagePlans[0].quota.limit: must be at least 1, got 0"#,
            #"t.yaml:24:67: usagePlans[0].quota.offset: must be at least 0, got -1"#,
        ])
        XCTAssertEqual(lines("{ }"), [
            #"t.yaml:24:32: usagePlans[0].quota.limit: missing required key "limit""#,
            #"t.yaml:24:32: usagePlans[0].quota.period: missing required key "period" (DAY, WEEK or MONTH)"#,
        ])
        XCTAssertEqual(parsed(accessConfig + "\nusagePlans: [{ name: p, quota: { limit: 1, period: MONTH, offset: 30 } }]")?
            .usagePlans.first?.quota, QuotaSettings(limit: 1, period: .month, offset: 30))
        XCTAssertEqual(parsed(accessConfig + "\nusagePlans: [{ name: p, quota: { limit: 1, period: DAY } }]")?
            .usagePlans.first?.quota, QuotaSettings(limit: 1, period: .day, offset: 0))
    }

    func testThrottleLimitsMustBeNonNegativeAndComeInPairs() {
        let yaml = accessConfig + """

            usagePlans:
              - { name: a, throttle: { burstLimit: -1, rateLimit: -0.5 } }
              - { name: b, throttle: { burstLimit: 10 } }
              - { name: c, throttle: { burstLimit: 1.5, rateLimit: fast } }
              - { name: d, throttle: { burstLimit: 0, rateLimit: 0 } }
            """
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:25:40: usagePlans[0].throttle.burstLimit: must be at least 0, got -1"#,
            #"t.yaml:25:55: usagePlans[0].throttle.rateLimit: must be at least 0, got -0.5"#,
            #"t.yaml:26:26: usagePlans[1].throttle.rateLimit: missing required key "rateLimit" (a throttle needs both burstLimit and rateLimit)"#,
            #"t.yaml:27:40: usagePlans[2].throttle.burstLimit: expected an integer, got 1.5"#,
            #"t.yaml:27:56: usagePlans[2].throttle.rateLimit: expected a number, got "fast""#,
        ])
    }

    // MARK: stage route settings

    func testStageRouteSettingsSetDefaultAndPerRouteThrottles() throws {
        let yaml = accessConfig.replacingOccurrences(of: "      - stageName: prod\n", with: """
                  - stageName: prod
                    defaultRouteSettings: { throttlingBurstLimit: 100, throttlingRateLimit: 50, detailedMetricsEnabled: true }
                    routeSettings:
                      "GET  /orders": { throttlingBurstLimit: 5, throttlingRateLimit: 0.5 }
                      "ANY /{proxy+}": { detailedMetricsEnabled: false }

            """)
        let stage = try XCTUnwrap(parsed(yaml)?.apis[0].stages[0])
        XCTAssertEqual(stage.defaultRouteThrottle, ThrottleSettings(burstLimit: 100, rateLimit: 50))
        XCTAssertEqual(stage.routeThrottles, ["GET /orders": ThrottleSettings(burstLimit: 5, rateLimit: 0.5)])
    }

    func testStageRouteSettingsRejectUnknownRoutesAndUnsupportedSettings() {
        let yaml = accessConfig.replacingOccurrences(of: "      - stageName: prod\n", with: """
                  - stageName: prod
                    defaultRouteSettings: { throttlingBurstLimit: -5, loggingLevel: INFO, dataTraceEnabled: true }
                    routeSettings:
                      "GET /missing": { throttlingBurstLimit: 5, throttlingRateLimit: 1 }
                      "GET /orders": { throttlingRateLimit: 1, detailedMetricsEnabled: "on" }
                      "get /orders": {}
                      "GET /orders ": { throttlingBurstLimit: 1, throttlingRateLimit: 1 }

            """)
        XCTAssertEqual(issueLines(yaml), [
            #"t.yaml:23:31: apis[0].stages[0].defaultRouteSettings.throttlingRateLimit: missing required key "throttlingRateLimit" (a throttle needs both throttlingBurstLimit and throttlingRateLimit)"#,
            #"t.yaml:23:55: apis[0].stages[0].defaultRouteSettings.throttlingBurstLimit: must be at least 0, got -5"#,
            #"t.yaml:23:59: apis[0].stages[0].defaultRouteSettings.loggingLevel: "loggingLevel" is not supported yet"#,
            #"t.yaml:23:79: apis[0].stages[0].defaultRouteSettings.dataTraceEnabled: "dataTraceEnabled" is not supported yet"#,
            #"t.yaml:25:11: apis[0].stages[0].routeSettings["GET /missing"]: names no route of api "shop": "GET /missing" (routes: "ANY /{proxy+}", "GET /orders")"#,
            #"t.yaml:26:26: apis[0].stages[0].routeSettings["GET /orders"].throttlingBurstLimit: missing required key "throttlingBurstLimit" (a throttle needs both throttlingBurstLimit and throttlingRateLimit)"#,
            #"t.yaml:26:76: apis[0].stages[0].routeSettings["GET /orders"].detailedMetricsEnabled: expected true or false, got "on""#,
            #"t.yaml:27:11: apis[0].stages[0].routeSettings["get /orders"]: invalid route key: unknown method "get" (expected GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, ANY)"#,
            #"t.yaml:28:11: apis[0].stages[0].routeSettings["GET /orders "]: duplicate route key "GET /orders" (first used at line 26)"#,
        ])
    }

    // MARK: settings

    func testAccountAndClientIpThrottlesAndQuotaStore() throws {
        let yaml = accessConfig + """

            settings:
              throttle: { burstLimit: 20 }
              clientIpThrottle: { burstLimit: 10, rateLimit: 1.5 }
              quotaStorePath: /var/lib/turnpike/usage.sqlite
            """
        let settings = try XCTUnwrap(parsed(yaml)?.settings)
        XCTAssertEqual(settings.throttle, ThrottleSettings(burstLimit: 20, rateLimit: 10000))
        XCTAssertEqual(settings.clientIpThrottle, ThrottleSettings(burstLimit: 10, rateLimit: 1.5))
        XCTAssertEqual(settings.quotaStorePath, "/var/lib/turnpike/usage.sqlite")

        let bad = accessConfig + """

            settings:
              throttle: { burstLimit: -1, rateLimit: "many", burst: 1 }
              clientIpThrottle: { rateLimit: 1 }
              quotaStorePath: ""
            """
        XCTAssertEqual(issueLines(bad), [
            #"t.yaml:25:27: settings.throttle.burstLimit: must be at least 0, got -1"#,
            #"t.yaml:25:42: settings.throttle.rateLimit: expected a number, got "many""#,
            #"t.yaml:25:50: settings.throttle.burst: unknown key "burst" (expected one of: burstLimit, rateLimit)"#,
            #"t.yaml:26:21: settings.clientIpThrottle.burstLimit: missing required key "burstLimit" (a throttle needs both burstLimit and rateLimit)"#,
            #"t.yaml:27:19: settings.quotaStorePath: expected a file path, got """#,
        ])
    }
}

extension AccessControlTests {
    func testPrintingAnApiKeyOrTheWholeConfigHidesTheKeyValue() throws {
        let secret = "s3cret-value-0123456789"
        let config = try XCTUnwrap(parsed(minimalConfig + "\napiKeys: [{ name: k, value: \"\(secret)\" }]"))
        XCTAssertEqual(String(describing: config.apiKeys[0]),
                       #"ApiKeyConfig(id: "af63e64c86", name: "k", value: <23 characters>, enabled: true)"#)
        XCTAssertFalse(String(describing: config).contains(secret))
        XCTAssertFalse(String(reflecting: config).contains(secret))
    }
}
