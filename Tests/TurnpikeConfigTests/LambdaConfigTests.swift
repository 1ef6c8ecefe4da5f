import XCTest
import TurnpikeConfig

private func issues(_ yaml: String) -> [String] {
    do {
        _ = try ConfigLoader.parse(text: yaml, fileName: "t.yaml")
        XCTFail("expected issues")
        return []
    } catch {
        return error.issues.map(\.description)
    }
}

private func lambdaConfig(functions: String, uri: String = "function:users", extra: String = "") -> String {
    """
    listeners:
      - name: public
        port: 8080
    functions:
    \(functions)
    apis:
      - name: shop
        integrations:
          - name: fn
            integrationType: AWS_PROXY
            integrationUri: \(uri)
    \(extra)
        routes:
          - routeKey: GET /users/{userId}
            target: fn
        stages:
          - stageName: $default
    """
}

/// Local functions (extension) and AWS_PROXY integrations that name them.
final class LambdaConfigTests: XCTestCase {
    func testFunctionDefaultsAndIntegrationReferences() throws {
        let yaml = lambdaConfig(functions: """
              - name: users
                command: ["python3", "-m", "awslambdaric", "app.handler"]
            """, uri: "arn:aws:lambda:us-east-1:000000000000:function:users:live", extra: "        payloadFormatVersion: \"1.0\"")
        let config = try ConfigLoader.parse(text: yaml, fileName: "/srv/t.yaml")
        XCTAssertEqual(config.functions, [LambdaFunction(
            name: "users", command: ["python3", "-m", "awslambdaric", "app.handler"], workingDirectory: "/srv",
            timeoutSeconds: 3, memorySize: 128, reservedConcurrency: 10)])
        XCTAssertEqual(config.apis[0].integrations[0].functionName, "users")
        XCTAssertEqual(config.apis[0].integrations[0].payloadFormatVersion, "1.0")
    }

    func testIntegrationUriForms() {
        XCTAssertEqual(LambdaFunction.functionName(inIntegrationUri: "function:users"), "users")
        XCTAssertEqual(LambdaFunction.functionName(inIntegrationUri: "arn:aws:lambda:eu-west-1:123456789012:function:users"), "users")
        XCTAssertEqual(LambdaFunction.functionName(
            inIntegrationUri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:users/invocations"),
            "users")
        XCTAssertNil(LambdaFunction.functionName(inIntegrationUri: "http://users"))
        XCTAssertNil(LambdaFunction.functionName(inIntegrationUri: "function:"))
        XCTAssertNil(LambdaFunction.functionName(inIntegrationUri: "xfunction:users"))
    }

    func testEveryBadFunctionValueIsReportedWithItsPosition() {
        let yaml = lambdaConfig(functions: """
              - name: "bad name"
                command: []
                timeoutSeconds: 0
                memorySize: 64
                reservedConcurrency: 0
                environment: { "1X": "a" }
              - name: users
            """, uri: "function:nobody")
        XCTAssertEqual(issues(yaml), [
            #"t.yaml:5:11: functions[0].name: a function name is 1 to 64 of A-Z a-z 0-9 - _, got "bad name""#,
            #"t.yaml:6:5: functions[0].command: expected the program and its arguments, e.g. ["python3", "-m", "awslambdaric", "app.handler"]"#,
            #"t.yaml:7:21: functions[0].timeoutSeconds: must be at least 1 and at most 900, got 0"#,
            #"t.yaml:8:17: functions[0].memorySize: must be at least 128 and at most 10240, got 64"#,
            #"t.yaml:9:26: functions[0].reservedConcurrency: must be at least 1 and at most 1000, got 0"#,
            #"t.yaml:10:20: functions[0].environment.1X: an environment variable name is letters, digits and "_", not starting with a digit, got "1X""#,
            #"t.yaml:11:5: functions[1].command: missing required key "command""#,
            #"t.yaml:17:25: apis[0].integrations[0].integrationUri: names no function: "nobody" (functions: "users")"#,
        ])
    }

    func testAwsProxyUriMustNameAFunction() {
        let yaml = lambdaConfig(functions: """
              - name: users
                command: [bootstrap]
            """, uri: "http://users")
        XCTAssertEqual(issues(yaml), [
            #"t.yaml:12:25: apis[0].integrations[0].integrationUri: an AWS_PROXY integrationUri is function:NAME or a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME), got "http://users""#,
        ])
    }

    func testRemoteFunctionBehindAnInvokeEndpoint() throws {
        let yaml = lambdaConfig(functions: """
              - name: users
                invokeEndpoint: http://localhost:3001
                functionName: UsersFunction
                region: eu-west-1
                credentials: { accessKeyId: AKID, secretAccessKey: secret }
            """)
        let function = try XCTUnwrap(ConfigLoader.parse(text: yaml, fileName: "t.yaml").functions.first)
        XCTAssertEqual(function.remote, RemoteFunction(
            host: "127.0.0.1", port: 3001, functionName: "UsersFunction", region: "eu-west-1",
            accessKeyId: "AKID", secretAccessKey: "secret"))
        XCTAssertEqual(function.command, [])
    }

    func testRemoteFunctionMistakes() {
        let yaml = lambdaConfig(functions: """
              - name: users
                invokeEndpoint: https://example.com
              - name: other
                command: [bootstrap]
                region: eu-west-1
            """)
        XCTAssertEqual(issues(yaml), [
            #"t.yaml:6:21: functions[0].invokeEndpoint: expected http://HOST:PORT, got "https://example.com""#,
            #"t.yaml:9:5: functions[1].region: "region" is used only with invokeEndpoint"#,
        ])
    }

    func testBinaryMediaTypesAreForRESTAPIs() throws {
        let functions = """
              - name: users
                command: [bootstrap]
            """
        let rest = lambdaConfig(functions: functions, extra: "").replacingOccurrences(
            of: "  - name: shop\n", with: "  - name: shop\n    protocolType: REST\n    binaryMediaTypes: [image/png, \"*/*\"]\n")
        XCTAssertEqual(try ConfigLoader.parse(text: rest, fileName: "t.yaml").apis[0].binaryMediaTypes, ["image/png", "*/*"])
        let http = lambdaConfig(functions: functions, extra: "").replacingOccurrences(
            of: "  - name: shop\n", with: "  - name: shop\n    binaryMediaTypes: [image/png]\n")
        XCTAssertEqual(issues(http), [
            #"t.yaml:9:23: apis[0].binaryMediaTypes: binaryMediaTypes are for REST APIs (HTTP APIs base64-encode every non-text body)"#,
        ])
    }
}
