/// A Lambda authorizer's `policyDocument`, parsed once and evaluated against each
/// method ARN it is asked about (a cached policy answers for other methods too).
///
/// Accepted as IAM writes it ("IAM JSON policy elements" reference): `Statement` is one
/// object or an array of them; `Action` and `Resource` are a string or an array of
/// strings; `Effect` is `Allow` or `Deny`. Turnpike reads `Effect` case-insensitively (as
/// the serverless-offline emulator does after reports that API Gateway accepts `allow`;
/// not confirmed in AWS documentation). Elements API Gateway's authorizer policies do not
/// document — `NotAction`, `NotResource`, `Condition` — make the policy invalid rather
/// than be silently ignored, so a policy never allows more here than it says.
public struct IAMPolicy: Sendable, Equatable {
    public enum Effect: Sendable, Equatable {
        case allow
        case deny
    }

    public struct Statement: Sendable, Equatable {
        public let effect: Effect
        /// e.g. `execute-api:Invoke`, `execute-api:*`, `*`.
        public let actions: [String]
        /// ARN patterns with `*` and `?` wildcards.
        public let resources: [String]

        public init(effect: Effect, actions: [String], resources: [String]) {
            self.effect = effect
            self.actions = actions
            self.resources = resources
        }
    }

    public let version: String?
    public let statements: [Statement]

    public init(version: String? = "2012-10-17", statements: [Statement]) {
        self.version = version
        self.statements = statements
    }

    /// Parses a `policyDocument` value.
    public init(document: JSONValue) throws(LambdaAuthorizerFailure) {
        guard case .object(let members) = document else { throw .missingPolicyDocument }
        switch members["Version"] {
        case nil: version = nil
        case .string(let v)?: version = v
        default: throw .invalidPolicy("Version is not a string")
        }
        switch members["Statement"] {
        case .object?: statements = [try Self.statement(members["Statement"]!)]
        case .array(let items)? where !items.isEmpty:
            var parsed: [Statement] = []
            parsed.reserveCapacity(items.count)
            for item in items { parsed.append(try Self.statement(item)) }
            statements = parsed
        default: throw .invalidPolicy("Statement is not an object or a non-empty array")
        }
    }

    private static func statement(_ value: JSONValue) throws(LambdaAuthorizerFailure) -> Statement {
        guard case .object(let members) = value else { throw .invalidPolicy("a statement is not an object") }
        for unsupported in ["NotAction", "NotResource", "Condition"] where members[unsupported] != nil {
            throw .invalidPolicy("\(unsupported) is not supported")
        }
        let effect: Effect
        switch members["Effect"]?.stringValue?.lowercased() {
        case "allow": effect = .allow
        case "deny": effect = .deny
        default: throw .invalidPolicy("Effect is not Allow or Deny")
        }
        return Statement(effect: effect, actions: try strings(members["Action"], "Action"),
                         resources: try strings(members["Resource"], "Resource"))
    }

    private static func strings(_ value: JSONValue?, _ name: String) throws(LambdaAuthorizerFailure) -> [String] {
        switch value {
        case .string(let s)?: return [s]
        case .array(let items)? where !items.isEmpty:
            var out: [String] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard case .string(let s) = item else { throw .invalidPolicy("\(name) holds a non-string") }
                out.append(s)
            }
            return out
        default: throw .invalidPolicy("\(name) is not a string or a non-empty array of strings")
        }
    }
}
