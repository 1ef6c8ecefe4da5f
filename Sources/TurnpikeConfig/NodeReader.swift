import Foundation
import Yams

/// A key path inside the config file, printed as `apis[0].routes[2].routeKey`.
struct ConfigPath {
    let text: String

    static let root = ConfigPath(text: "")

    func key(_ name: String) -> ConfigPath {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy {
            ($0.properties.isAlphabetic && $0.isASCII) || ("0"..."9").contains($0) || $0 == "_" || $0 == "$"
        }
        if plain { return ConfigPath(text: text.isEmpty ? name : text + "." + name) }
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return ConfigPath(text: text + "[\"" + escaped + "\"]")
    }

    func index(_ position: Int) -> ConfigPath {
        ConfigPath(text: text + "[\(position)]")
    }
}

/// Collects every issue found while the node tree is walked.
final class IssueLog {
    let file: String
    private(set) var issues: [ConfigIssue] = []

    init(file: String) {
        self.file = file
    }

    func add(_ path: ConfigPath, at mark: Mark?, _ message: String) {
        issues.append(ConfigIssue(
            file: file, path: path.text, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message))
    }

    func add(_ path: ConfigPath, at node: Node, _ message: String) {
        add(path, at: node.mark, message)
    }
}

/// What a YAML scalar means, decided by its text and quoting (YAML 1.2 core schema).
enum ScalarValue {
    case null
    case bool(Bool)
    case int(Int)
    case float
    case string(String)
}

extension Node {
    /// The scalar's meaning; nil for mappings and sequences.
    var scalarValue: ScalarValue? {
        guard case let .scalar(scalar) = self else { return nil }
        let text = scalar.string
        guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        if let number = Int(text) { return .int(number) }
        if text.contains(where: \.isNumber), Double(text) != nil { return .float }
        return .string(text)
    }

    var isNull: Bool {
        if case .null? = scalarValue { return true }
        return false
    }

    /// How the node reads in an error message: `a list`, `a mapping`, `"abc"`, `null`, `42`.
    var summary: String {
        switch self {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case let .scalar(scalar):
            if case .string? = scalarValue { return "\"\(scalar.string)\"" }
            return scalar.string.isEmpty ? "null" : scalar.string
        case .alias: return "an alias"
        }
    }
}

extension IssueLog {
    /// Any non-null scalar as text: unquoted numbers and booleans are accepted as strings.
    func string(_ node: Node, _ path: ConfigPath) -> String? {
        guard case let .scalar(scalar) = node, !node.isNull else {
            add(path, at: node, "expected a string, got \(node.summary)")
            return nil
        }
        return scalar.string
    }

    func int(_ node: Node, _ path: ConfigPath, in range: ClosedRange<Int>) -> Int? {
        guard case let .int(value)? = node.scalarValue else {
            add(path, at: node, "expected an integer, got \(node.summary)")
            return nil
        }
        guard range.contains(value) else {
            let upper = range.upperBound == Int.max ? "" : " and at most \(range.upperBound)"
            add(path, at: node, "must be at least \(range.lowerBound)\(upper), got \(value)")
            return nil
        }
        return value
    }

    /// An integer or decimal number, at least `minimum`.
    func number(_ node: Node, _ path: ConfigPath, minimum: Double) -> Double? {
        let value: Double?
        switch node.scalarValue {
        case let .int(number)?: value = Double(number)
        case .float?: value = node.string.flatMap(Double.init).flatMap { $0.isFinite ? $0 : nil }
        default: value = nil
        }
        guard let value else {
            add(path, at: node, "expected a number, got \(node.summary)")
            return nil
        }
        guard value >= minimum else {
            add(path, at: node, "must be at least \(Self.formatted(minimum)), got \(Self.formatted(value))")
            return nil
        }
        return value
    }

    private static func formatted(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }

    func bool(_ node: Node, _ path: ConfigPath) -> Bool? {
        guard case let .bool(value)? = node.scalarValue else {
            add(path, at: node, "expected true or false, got \(node.summary)")
            return nil
        }
        return value
    }

    /// The items of a list, each with its path; nil (with an issue) when the node is no list.
    func list(_ node: Node, _ path: ConfigPath) -> [(path: ConfigPath, node: Node)]? {
        guard case let .sequence(sequence) = node else {
            add(path, at: node, "expected a list, got \(node.summary)")
            return nil
        }
        return sequence.enumerated().map { (path.index($0.offset), $0.element) }
    }

    /// The entries of a free-form mapping (keys chosen by the user), in file order.
    func entries(_ node: Node, _ path: ConfigPath) -> [MapEntry]? {
        guard case let .mapping(mapping) = node else {
            add(path, at: node, "expected a mapping, got \(node.summary)")
            return nil
        }
        return mapping.map { MapEntry(key: $0.key.string ?? $0.key.summary, keyNode: $0.key, value: $0.value, path: path.key($0.key.string ?? $0.key.summary)) }
    }
}

/// One entry of a user-keyed mapping (stage variables, parameter mappings).
struct MapEntry {
    let key: String
    let keyNode: Node
    let value: Node
    let path: ConfigPath
}

/// Reads the fields of one object (a mapping with a fixed set of keys), reporting unknown keys.
struct ObjectReader {
    let log: IssueLog
    let path: ConfigPath
    let mark: Mark?
    private let fields: [String: (keyNode: Node, value: Node)]

    /// Nil (with an issue) when the node is not a mapping. Keys outside `keys` are reported:
    /// those in `unsupported` as "not supported yet", the rest as unknown.
    init?(_ node: Node, _ path: ConfigPath, log: IssueLog, keys: [String], unsupported: [String] = []) {
        guard case let .mapping(mapping) = node else {
            log.add(path, at: node, "expected a mapping, got \(node.summary)")
            return nil
        }
        self.log = log
        self.path = path
        self.mark = node.mark
        var fields: [String: (keyNode: Node, value: Node)] = [:]
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? keyNode.summary
            if keys.contains(key) {
                fields[key] = (keyNode, value)
            } else if unsupported.contains(key) {
                log.add(path.key(key), at: keyNode, "\"\(key)\" is not supported yet")
            } else {
                log.add(path.key(key), at: keyNode, Self.unknownKeyMessage(key, known: keys))
            }
        }
        self.fields = fields
    }

    private static func unknownKeyMessage(_ key: String, known: [String]) -> String {
        if let near = known.min(by: { editDistance(key, $0) < editDistance(key, $1) }),
           editDistance(key, near) <= max(1, near.count / 4) {
            return "unknown key \"\(key)\" (did you mean \"\(near)\"?)"
        }
        return "unknown key \"\(key)\" (expected one of: \(known.joined(separator: ", ")))"
    }

    /// The value of `key`; nil when absent or null.
    func node(_ key: String) -> Node? {
        guard let value = fields[key]?.value, !value.isNull else { return nil }
        return value
    }

    /// Where `key` is written, or where the object starts when the key is absent.
    func mark(of key: String) -> Mark? {
        fields[key]?.keyNode.mark ?? mark
    }

    func string(_ key: String) -> String? {
        node(key).flatMap { log.string($0, path.key(key)) }
    }

    /// A required, non-empty string; nil (with an issue) when missing or invalid.
    func requiredString(_ key: String) -> String? {
        guard let value = node(key) else {
            log.add(path.key(key), at: mark(of: key), "missing required key \"\(key)\"")
            return nil
        }
        guard let text = log.string(value, path.key(key)) else { return nil }
        guard !text.isEmpty else {
            log.add(path.key(key), at: value, "must not be empty")
            return nil
        }
        return text
    }

    /// A required integer; nil (with an issue) when missing or invalid.
    func requiredInt(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = node(key) else {
            log.add(path.key(key), at: mark(of: key), "missing required key \"\(key)\"")
            return nil
        }
        return log.int(value, path.key(key), in: range)
    }

    /// The items of a required list; empty (with an issue) when missing or invalid.
    func requiredList(_ key: String) -> [(path: ConfigPath, node: Node)] {
        guard node(key) != nil else {
            log.add(path.key(key), at: mark(of: key), "missing required key \"\(key)\"")
            return []
        }
        return list(key)
    }

    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
        node(key).flatMap { log.int($0, path.key(key), in: range) } ?? fallback
    }

    func optionalInt(_ key: String, in range: ClosedRange<Int>) -> Int? {
        node(key).flatMap { log.int($0, path.key(key), in: range) }
    }

    func bool(_ key: String, default fallback: Bool) -> Bool {
        node(key).flatMap { log.bool($0, path.key(key)) } ?? fallback
    }

    /// The items of the list at `key`; empty when absent or invalid.
    func list(_ key: String) -> [(path: ConfigPath, node: Node)] {
        node(key).flatMap { log.list($0, path.key(key)) } ?? []
    }

    func object(_ key: String, keys: [String], unsupported: [String] = []) -> ObjectReader? {
        node(key).flatMap { ObjectReader($0, path.key(key), log: log, keys: keys, unsupported: unsupported) }
    }

    func entries(_ key: String) -> [MapEntry] {
        node(key).flatMap { log.entries($0, path.key(key)) } ?? []
    }

    func number(_ key: String, default fallback: Double, minimum: Double) -> Double {
        node(key).flatMap { log.number($0, path.key(key), minimum: minimum) } ?? fallback
    }

    /// One of a fixed set of words; `notYet` words are reported as not supported yet, with the
    /// word's entry in `notYetNotes` (if any) in parentheses after.
    func choice<Value: RawRepresentable & CaseIterable>(
        _ key: String, default fallback: Value, notYet: [String] = [], notYetNotes: [String: String] = [:]
    ) -> Value where Value.RawValue == String {
        guard let node = node(key), let text = log.string(node, path.key(key)) else { return fallback }
        if let value = Value(rawValue: text) { return value }
        if notYet.contains(text) {
            let note = notYetNotes[text].map { " (\($0))" } ?? ""
            log.add(path.key(key), at: node, "\(key) \"\(text)\" is not supported yet\(note)")
        } else {
            let allowed = Value.allCases.map { "\"\($0.rawValue)\"" } + notYet.map { "\"\($0)\"" }
            log.add(path.key(key), at: node, "unknown \(key) \"\(text)\" (expected \(allowed.joined(separator: ", ")))")
        }
        return fallback
    }
}

/// Levenshtein distance, for "did you mean" hints on unknown keys.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

/// Remembers names seen in one scope and reports the second use of any.
struct UniqueNames {
    private var firstLines: [String: Int] = [:]

    /// Claims `name` (compared as given; lowercase it first for case-insensitive scopes);
    /// false when it was taken already.
    @discardableResult
    mutating func claim(_ name: String, _ what: String, _ path: ConfigPath, at mark: Mark?, log: IssueLog) -> Bool {
        if let line = firstLines[name] {
            log.add(path, at: mark, "duplicate \(what) \"\(name)\" (first used at line \(line))")
            return false
        }
        firstLines[name] = mark?.line ?? 0
        return true
    }
}
