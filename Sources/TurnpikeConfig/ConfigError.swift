/// Everything wrong with a configuration file, reported all at once.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let issues: [ConfigIssue]

    public init(issues: [ConfigIssue]) {
        self.issues = issues
    }

    /// One issue a line, e.g. `turnpike.yaml:12:7: apis[0].routes[2].routeKey: unknown method "GRT"`.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}

/// One problem in a configuration file, with where it is.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    /// The key path inside the file, e.g. `apis[0].routes[2].routeKey`; "" for the whole file.
    public let path: String
    /// 1-based; 0 when the problem has no position (e.g. the file cannot be read).
    public let line: Int
    /// 1-based; 0 when the problem has no position.
    public let column: Int
    public let message: String

    public init(file: String, path: String, line: Int, column: Int, message: String) {
        self.file = file
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var text = file
        if line > 0 { text += ":\(line):\(column)" }
        text += ": "
        if !path.isEmpty { text += path + ": " }
        return text + message
    }
}
