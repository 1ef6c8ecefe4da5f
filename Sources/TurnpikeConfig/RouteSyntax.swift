/// Route keys, stage names and api mapping keys as API Gateway spells them.
enum RouteSyntax {
    static let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"]

    /// Validates a route key and returns it normalised to `METHOD /path` (or `$default`).
    static func routeKey(_ text: String) -> Result<String, SyntaxError> {
        if text == "$default" { return .success(text) }
        let words = text.split(separator: " ")
        guard words.count == 2 else {
            return .failure(SyntaxError("expected \"$default\" or \"METHOD /path\", got \"\(text)\""))
        }
        let method = String(words[0]), path = String(words[1])
        guard methods.contains(method) else {
            return .failure(SyntaxError("unknown method \"\(method)\" (expected \(methods.joined(separator: ", ")))"))
        }
        if let problem = pathProblem(path) {
            return .failure(SyntaxError("path \"\(path)\" \(problem)"))
        }
        return .success(method + " " + path)
    }

    /// What is wrong with a route path, or nil: `/`, literal segments, `{name}`, and `{name+}` last.
    private static func pathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "must start with \"/\"" }
        if path == "/" { return nil }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var names: Set<Substring> = []
        for (index, segment) in segments.enumerated() {
            guard !segment.isEmpty else { return "has an empty segment" }
            if segment.hasPrefix("{") && segment.hasSuffix("}") {
                var name = segment.dropFirst().dropLast()
                if name.hasSuffix("+") {
                    guard index == segments.count - 1 else {
                        return "has a greedy parameter \"\(segment)\" that is not the last segment"
                    }
                    name = name.dropLast()
                }
                guard !name.isEmpty, name.allSatisfy({ $0.isNameCharacter || $0 == "-" || $0 == "." }) else {
                    return "has an invalid parameter \"\(segment)\""
                }
                guard names.insert(name).inserted else { return "uses the parameter \"\(name)\" twice" }
            } else if let bad = segment.first(where: { !isPathCharacter($0) }) {
                return "contains \"\(bad)\", which a route path segment may not"
            }
        }
        return nil
    }

    private static func isPathCharacter(_ character: Character) -> Bool {
        character.isASCIILetterOrDigit || "-._~!$&'()*+,;=:@%".contains(character)
    }

    static func isStageName(_ text: String) -> Bool {
        text == "$default"
            || ((1...128).contains(text.count) && text.allSatisfy { $0.isNameCharacter || $0 == "-" })
    }

    /// `""` or segments of `[A-Za-z0-9._-]` joined by "/".
    static func isApiMappingKey(_ text: String) -> Bool {
        text.isEmpty || text.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { segment in
            !segment.isEmpty && segment.allSatisfy { $0.isASCIILetterOrDigit || "._-".contains($0) }
        }
    }

    static func isStageVariableValue(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCIILetterOrDigit || "-._~:/?#&=,".contains($0) }
    }

    /// An api id: `[a-z0-9]{1,64}`.
    static func isApiId(_ text: String) -> Bool {
        (1...64).contains(text.count) && text.allSatisfy { $0.isASCIIDigit || ("a"..."z").contains($0) }
    }
}
