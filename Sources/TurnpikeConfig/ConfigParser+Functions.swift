import Yams

extension ConfigParser {
    /// `functions` (extension): local Lambda functions run as Runtime API process pools.
    func functions(_ top: ObjectReader) -> [LambdaFunction] {
        var names = UniqueNames()
        var functions: [LambdaFunction] = []
        for (path, node) in top.list("functions") {
            guard let fields = ObjectReader(node, path, log: log, keys: [
                "name", "command", "workingDirectory", "environment", "timeoutSeconds", "memorySize",
                "reservedConcurrency",
            ]) else { continue }
            var name = fields.requiredString("name") ?? ""
            if !name.isEmpty, let nameNode = fields.node("name") {
                if LambdaFunction.functionName(inIntegrationUri: "function:" + name) != name {
                    log.add(path.key("name"), at: nameNode,
                            "a function name is 1 to 64 of A-Z a-z 0-9 - _, got \"\(name)\"")
                    name = ""
                } else {
                    names.claim(name, "function name", path.key("name"), at: nameNode.mark, log: log)
                }
            }
            var command: [String] = []
            if fields.node("command") == nil {
                log.add(path.key("command"), at: fields.mark(of: "command"), "missing required key \"command\"")
            }
            for (itemPath, item) in fields.list("command") {
                if let word = log.string(item, itemPath) { command.append(word) }
            }
            if fields.node("command") != nil, command.isEmpty || command[0].isEmpty {
                log.add(path.key("command"), at: fields.mark(of: "command"),
                        "expected the program and its arguments, e.g. [\"python3\", \"-m\", \"awslambdaric\", \"app.handler\"]")
            }
            var environment: [String: String] = [:]
            for entry in fields.entries("environment") {
                guard !entry.key.isEmpty, entry.key.allSatisfy(\.isNameCharacter),
                      !(entry.key.first?.isNumber ?? true) else {
                    log.add(entry.path, at: entry.keyNode,
                            "an environment variable name is letters, digits and \"_\", not starting with a digit, got \"\(entry.key)\"")
                    continue
                }
                if let value = log.string(entry.value, entry.path) { environment[entry.key] = value }
            }
            let function = LambdaFunction(
                name: name, command: command,
                workingDirectory: fields.string("workingDirectory").map(resolve) ?? (directory.isEmpty ? "." : directory),
                environment: environment,
                timeoutSeconds: fields.int("timeoutSeconds", default: 3, in: 1...900),
                memorySize: fields.int("memorySize", default: 128, in: 128...10240),
                reservedConcurrency: fields.int("reservedConcurrency", default: 10, in: 1...1000))
            // Only valid names can be referred to (an invalid one is reported above).
            if !name.isEmpty { functions.append(function) }
        }
        return functions
    }
}
