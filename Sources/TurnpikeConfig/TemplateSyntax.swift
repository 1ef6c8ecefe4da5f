/// Parses value templates (`"Bearer $request.header.token"`, `"${context.requestId}"`) into parts.
enum TemplateSyntax {
    /// Which variables a template may use.
    enum Scope {
        /// Parameter mappings: `$request.*`, `$context.*`, `$stageVariables.*`.
        case parameterMapping
        /// Access log formats: `$context.*` only.
        case accessLog
    }

    static func parse(_ text: String, scope: Scope) -> Result<ValueTemplate, SyntaxError> {
        var scanner = TemplateScanner(Array(text))
        var parts: [TemplatePart] = []
        var literal = ""
        func flush() {
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
        }
        while let character = scanner.peek() {
            guard character == "$" else {
                literal.append(character)
                scanner.advance()
                continue
            }
            let start = scanner.position
            scanner.advance()
            let braced = scanner.peek() == "{"
            if braced { scanner.advance() }
            let root = scanner.word { $0.isASCIILetterOrDigit }
            guard ["request", "context", "stageVariables"].contains(root) else {
                if braced {
                    return .failure(SyntaxError("unknown variable \"${\(root)…}\"; expected $request.*, $context.* or $stageVariables.*"))
                }
                scanner.position = start + 1
                literal.append("$")
                continue
            }
            let variable: TemplateVariable
            switch variableAfterRoot(root, &scanner) {
            case let .success(parsed): variable = parsed
            case let .failure(error): return .failure(error)
            }
            if braced {
                guard scanner.peek() == "}" else {
                    return .failure(SyntaxError("\"${\" at offset \(start) is not closed by \"}\" right after the variable name"))
                }
                scanner.advance()
            }
            if scope == .accessLog {
                guard case .context = variable else {
                    return .failure(SyntaxError("an access log format may only use $context variables"))
                }
            }
            flush()
            parts.append(.variable(variable))
        }
        flush()
        return .success(ValueTemplate(text: text, parts: parts))
    }

    private static func variableAfterRoot(_ root: String, _ scanner: inout TemplateScanner) -> Result<TemplateVariable, SyntaxError> {
        guard scanner.peek() == "." else {
            return .failure(SyntaxError("expected \".NAME\" after \"$\(root)\""))
        }
        scanner.advance()
        switch root {
        case "context":
            let name = scanner.dottedWord()
            guard !name.isEmpty else { return .failure(SyntaxError("expected a name after \"$context.\"")) }
            return .success(.context(name))
        case "stageVariables":
            let name = scanner.word { $0.isNameCharacter }
            guard !name.isEmpty else { return .failure(SyntaxError("expected a name after \"$stageVariables.\"")) }
            return .success(.stageVariable(name))
        default:
            let source = scanner.word { $0.isASCIILetterOrDigit }
            if source == "path", !scanner.hasNameAfterDot() {
                return .success(.requestPath)
            }
            let expected = "expected $request.header.NAME, $request.querystring.NAME, $request.path.NAME or $request.path"
            guard ["header", "querystring", "path"].contains(source) else {
                if source == "body" { return .failure(SyntaxError("$request.body is not supported yet")) }
                return .failure(SyntaxError("unknown variable \"$request.\(source)\"; \(expected)"))
            }
            guard scanner.peek() == "." else { return .failure(SyntaxError("\(expected), got \"$request.\(source)\"")) }
            scanner.advance()
            let name = scanner.word { $0.isNameCharacter || $0 == "-" }
            guard !name.isEmpty else { return .failure(SyntaxError("expected a name after \"$request.\(source).\"")) }
            switch source {
            case "header": return .success(.requestHeader(name.lowercased()))
            case "querystring": return .success(.requestQueryString(name))
            default: return .success(.requestPathParameter(name))
            }
        }
    }
}

/// A cursor over the characters of a template.
private struct TemplateScanner {
    let characters: [Character]
    var position = 0

    init(_ characters: [Character]) {
        self.characters = characters
    }

    func peek() -> Character? {
        position < characters.count ? characters[position] : nil
    }

    mutating func advance() {
        position += 1
    }

    mutating func word(_ accepts: (Character) -> Bool) -> String {
        var word = ""
        while let character = peek(), accepts(character) {
            word.append(character)
            advance()
        }
        return word
    }

    func hasNameAfterDot() -> Bool {
        position + 1 < characters.count && characters[position] == "." && characters[position + 1].isNameCharacter
    }

    /// Words joined by dots (`authorizer.claims.sub`); a trailing dot stays literal text.
    mutating func dottedWord() -> String {
        var name = word { $0.isNameCharacter }
        while !name.isEmpty, hasNameAfterDot() {
            advance()
            name += "." + word { $0.isNameCharacter }
        }
        return name
    }
}
