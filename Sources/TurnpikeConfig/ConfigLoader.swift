import Foundation
import Yams

/// Reads a YAML or JSON configuration file into a validated `GatewayConfig`, or every issue in it.
public enum ConfigLoader {
    /// Loads the file at `path`; issues name the path as given, `sourcePath` is absolute.
    /// `environment` supplies `valueFrom: env:NAME` values (the process's environment by default).
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> GatewayConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(issues: [ConfigIssue(file: path, path: "", line: 0, column: 0, message: "cannot read the file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(issues: [ConfigIssue(file: path, path: "", line: 0, column: 0, message: "the file is not UTF-8 text")])
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return try parse(text: text, fileName: path, sourcePath: absolute, environment: environment)
    }

    /// Parses configuration text; `fileName` names the file in issues and anchors relative paths.
    /// `environment` supplies `valueFrom: env:NAME` values (the process's environment by default).
    public static func parse(
        text: String, fileName: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> GatewayConfig {
        try parse(text: text, fileName: fileName, sourcePath: fileName, environment: environment)
    }

    private static func parse(
        text: String, fileName: String, sourcePath: String, environment: [String: String]
    ) throws(ConfigError) -> GatewayConfig {
        let log = IssueLog(file: fileName)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            log.add(.root, at: yamlErrorMark(error), yamlErrorMessage(error))
            throw ConfigError(issues: log.issues)
        }
        guard let root, !root.isNull else {
            log.add(.root, at: nil, "the file is empty; expected a mapping with listeners, targetGroups, apis, …")
            throw ConfigError(issues: log.issues)
        }
        let directory = (sourcePath as NSString).deletingLastPathComponent
        let config = ConfigParser(log: log, directory: directory, environment: environment).gatewayConfig(root, sourcePath: sourcePath)
        guard log.issues.isEmpty, let config else {
            // In file order; issues at one position keep the order they were found in.
            let ordered = log.issues.enumerated().sorted {
                ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
            }
            throw ConfigError(issues: ordered.map(\.element))
        }
        return config
    }

    private static func yamlErrorMark(_ error: any Error) -> Mark? {
        switch error as? YamlError {
        case let .scanner(_, _, mark, _)?, let .parser(_, _, mark, _)?, let .composer(_, _, mark, _)?:
            return mark
        case let .duplicatedKeysInMapping(_, context)?:
            return context.mark
        default:
            return nil
        }
    }

    private static func yamlErrorMessage(_ error: any Error) -> String {
        switch error as? YamlError {
        case let .scanner(context, problem, _, _)?, let .parser(context, problem, _, _)?,
             let .composer(context, problem, _, _)?:
            let while_ = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return "invalid YAML: \(problem)\(while_)"
        case let .duplicatedKeysInMapping(duplicates, _)?:
            return "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) in one mapping"
        case let .reader(problem, _, _, _)?:
            return "invalid YAML: \(problem)"
        default:
            return "invalid YAML: \(error)"
        }
    }
}
