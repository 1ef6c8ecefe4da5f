import XCTest
import TurnpikeConfig

/// The smallest valid config; tests splice in the part they exercise.
let minimalConfig = """
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
        stages:
          - stageName: $default
    """

/// The repository's root folder, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Parses `yaml` expecting failure; returns the issues as printed lines.
func issueLines(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
    do {
        let config = try ConfigLoader.parse(text: yaml, fileName: "t.yaml")
        XCTFail("expected issues, got a config with \(config.apis.count) apis", file: file, line: line)
        return []
    } catch {
        return error.issues.map(\.description)
    }
}

/// Parses `yaml` expecting success.
func parsed(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> GatewayConfig? {
    do {
        return try ConfigLoader.parse(text: yaml, fileName: "t.yaml")
    } catch {
        XCTFail("unexpected issues:\n\(error)", file: file, line: line)
        return nil
    }
}
