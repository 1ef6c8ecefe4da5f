/// The HTTP method part of a route key; `ANY` matches every method that has no route of its own.
public enum RouteMethod: String, CaseIterable, Hashable, Sendable {
    case get = "GET"
    case post = "POST"
    case put = "PUT"
    case delete = "DELETE"
    case patch = "PATCH"
    case head = "HEAD"
    case options = "OPTIONS"
    case any = "ANY"

    /// Position in a route table's per-path method slots; `ANY` is last.
    var slot: Int {
        switch self {
        case .get: 0
        case .post: 1
        case .put: 2
        case .delete: 3
        case .patch: 4
        case .head: 5
        case .options: 6
        case .any: 7
        }
    }

    static let slotCount = 8
}

/// One `/`-separated piece of a route key's path: a literal, a `{name}` variable or a greedy `{name+}` variable.
public enum RouteSegment: Hashable, Sendable {
    case literal(String)
    case variable(String)
    /// Matches one or more whole segments; must be the last segment of a route key.
    case greedy(String)
}

/// A validated HTTP API route key (`GET /pets/{id}`, `ANY /{proxy+}`, `$default`), parsed once at config load.
public enum RouteKey: Hashable, Sendable, CustomStringConvertible {
    /// `$default`: the catch-all route, chosen only when no other route matches.
    case defaultRoute
    /// `METHOD /path`; an empty segment list is the root path `/`.
    case route(method: RouteMethod, segments: [RouteSegment])

    /// Parses and validates a route key exactly as written in the configuration.
    public init(parsing text: String) throws(RouteKeyError) {
        if text == "$default" {
            self = .defaultRoute
            return
        }
        guard let space = text.firstIndex(of: " ") else {
            throw .missingPath(text)
        }
        let methodText = String(text[..<space])
        let pathText = String(text[text.index(after: space)...])
        // Methods are case-sensitive tokens (RFC 9110 §9.1); AWS route keys spell them upper-case.
        guard let method = RouteMethod(rawValue: methodText) else {
            throw .unknownMethod(methodText)
        }
        self = .route(method: method, segments: try RouteKey.parsePath(pathText))
    }

    private static func parsePath(_ path: String) throws(RouteKeyError) -> [RouteSegment] {
        guard path.hasPrefix("/") else { throw .pathMustStartWithSlash(path) }
        if path == "/" { return [] }
        // AWS refuses route paths ending in '/' other than the root ("invalid route name ending in /",
        // reported in storacha/w3infra#166); a request's own trailing slash is ignored when matching instead.
        guard !path.hasSuffix("/") else { throw .trailingSlash(path) }
        var segments: [RouteSegment] = []
        var names: Set<String> = []
        let pieces = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (position, piece) in pieces.enumerated() {
            guard !piece.isEmpty else { throw .emptySegment(path) }
            if let bad = piece.unicodeScalars.first(where: { $0.properties.isWhitespace || $0.value < 0x20 }) {
                throw .invalidCharacter(path, Character(bad))
            }
            let segment = try parseSegment(piece, in: path)
            switch segment {
            case .literal:
                break
            case .variable(let name), .greedy(let name):
                guard names.insert(name).inserted else { throw .duplicateVariable(path, name) }
            }
            // "The greedy path variable must be at the end of the resource path."
            // (docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html)
            if case .greedy = segment, position != pieces.count - 1 {
                throw .greedyVariableNotLast(path)
            }
            segments.append(segment)
        }
        return segments
    }

    private static func parseSegment(_ piece: Substring, in path: String) throws(RouteKeyError) -> RouteSegment {
        let opens = piece.contains("{")
        let closes = piece.contains("}")
        guard opens || closes else { return .literal(String(piece)) }
        // A variable is a whole segment: `{name}` or `{name+}`, nothing before or after the braces.
        guard piece.first == "{", piece.last == "}", piece.count >= 2 else {
            throw .malformedBraces(path, String(piece))
        }
        var name = piece.dropFirst().dropLast()
        guard !name.contains("{"), !name.contains("}") else { throw .malformedBraces(path, String(piece)) }
        var greedy = false
        if name.hasSuffix("+") {
            greedy = true
            name = name.dropLast()
        }
        guard !name.isEmpty, name.allSatisfy(isVariableNameCharacter) else {
            throw .invalidVariableName(path, String(piece))
        }
        return greedy ? .greedy(String(name)) : .variable(String(name))
    }

    private static func isVariableNameCharacter(_ c: Character) -> Bool {
        guard let ascii = c.asciiValue else { return false }
        switch ascii {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }

    /// Names of the path variables in order of appearance; a greedy `{proxy+}` is named `proxy`.
    public var parameterNames: [String] {
        guard case .route(_, let segments) = self else { return [] }
        return segments.compactMap { segment in
            switch segment {
            case .literal: nil
            case .variable(let name), .greedy(let name): name
            }
        }
    }

    /// The canonical text of the key, as `routeKey` appears in events and logs.
    public var description: String {
        switch self {
        case .defaultRoute:
            return "$default"
        case .route(let method, let segments):
            if segments.isEmpty { return "\(method.rawValue) /" }
            let path = segments.map { segment -> String in
                switch segment {
                case .literal(let text): text
                case .variable(let name): "{\(name)}"
                case .greedy(let name): "{\(name)+}"
                }
            }.joined(separator: "/")
            return "\(method.rawValue) /\(path)"
        }
    }
}

/// Why a route key was refused at config load; `message` is what the configuration error shows.
public enum RouteKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingPath(String)
    case unknownMethod(String)
    case pathMustStartWithSlash(String)
    case trailingSlash(String)
    case emptySegment(String)
    case invalidCharacter(String, Character)
    case malformedBraces(String, String)
    case invalidVariableName(String, String)
    case greedyVariableNotLast(String)
    case duplicateVariable(String, String)

    public var message: String {
        switch self {
        case .missingPath(let key):
            "route key '\(key)' must be '$default' or 'METHOD /path'"
        case .unknownMethod(let method):
            "unknown method '\(method)': expected one of "
                + RouteMethod.allCases.map(\.rawValue).joined(separator: ", ")
        case .pathMustStartWithSlash(let path):
            "path '\(path)' must start with '/'"
        case .trailingSlash(let path):
            "path '\(path)' must not end with '/'"
        case .emptySegment(let path):
            "path '\(path)' has an empty segment ('//')"
        case .invalidCharacter(let path, let character):
            "path '\(path)' contains the invalid character \(character.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined())"
        case .malformedBraces(let path, let segment):
            "segment '\(segment)' of path '\(path)' has malformed braces: a variable must be a whole segment, '{name}' or '{name+}'"
        case .invalidVariableName(let path, let segment):
            "variable '\(segment)' of path '\(path)' needs a name of letters, digits, '_', '-' or '.'"
        case .greedyVariableNotLast(let path):
            "greedy variable in path '\(path)' must be the last segment"
        case .duplicateVariable(let path, let name):
            "variable '\(name)' appears more than once in path '\(path)'"
        }
    }

    public var description: String { message }
}
