/// The result of evaluating an authorizer policy for one method ARN.
public enum PolicyVerdict: Sendable, Equatable {
    case allow
    /// A Deny statement matched (it wins over any Allow).
    case explicitDeny
    /// No statement matched.
    case implicitDeny
}

/// Evaluates an `IAMPolicy` for `execute-api:Invoke` on a method ARN the way IAM does:
/// an explicit Deny wins, then any Allow, else the request is implicitly denied
/// ("Policy evaluation logic", IAM user guide).
///
/// Actions match case-insensitively (IAM action names are), with `*` and `?`.
/// Resources match case-sensitively, per colon-separated ARN segment ("IAM JSON policy
/// elements: Resource", "Using wildcards in resource ARNs"): `*` is any run of characters
/// including `/`, `?` is one character, neither crosses a `:` — except a `*` that ends a
/// segment, which may expand across colons; `*` alone matches every ARN. So
/// `arn:aws:execute-api:us-east-1:*:*` covers every API, stage, method and path of the
/// region, as the execute-api statement reference says.
public enum IAMPolicyEvaluator {
    public static func evaluate(_ policy: IAMPolicy, methodArn: String,
                                action: String = "execute-api:Invoke") -> PolicyVerdict {
        let arn = Array(methodArn.utf8)
        let actionBytes = Array(action.lowercased().utf8)
        var allowed = false
        for statement in policy.statements {
            // A Deny is decisive; an Allow only needs finding once.
            if statement.effect == .allow, allowed { continue }
            guard statement.actions.contains(where: { matchesAction($0, actionBytes) }),
                  statement.resources.contains(where: { matchesResource($0, arn) }) else { continue }
            if statement.effect == .deny { return .explicitDeny }
            allowed = true
        }
        return allowed ? .allow : .implicitDeny
    }

    public static func evaluate(_ policy: IAMPolicy, methodArn: MethodArn) -> PolicyVerdict {
        evaluate(policy, methodArn: methodArn.text)
    }

    static func matchesAction(_ pattern: String, _ action: [UInt8]) -> Bool {
        glob(Array(pattern.lowercased().utf8), action, colonBound: false)
    }

    static func matchesResource(_ pattern: String, _ arn: [UInt8]) -> Bool {
        glob(Array(pattern.utf8), arn, colonBound: true)
    }

    /// Wildcard match by dynamic programming over (pattern prefix, text prefix): linear
    /// memory, no backtracking blow-up. With `colonBound`, `*` and `?` never consume a `:`,
    /// except a `*` that is last in its segment (followed by `:` or the pattern's end).
    static func glob(_ pattern: [UInt8], _ text: [UInt8], colonBound: Bool) -> Bool {
        let colon = UInt8(ascii: ":"), star = UInt8(ascii: "*"), question = UInt8(ascii: "?")
        // row[j]: the pattern so far matches the first j bytes of text.
        var row = [Bool](repeating: false, count: text.count + 1)
        var next = row
        row[0] = true
        for (i, c) in pattern.enumerated() {
            switch c {
            case star:
                let crossesColons = !colonBound || i + 1 == pattern.count || pattern[i + 1] == colon
                next[0] = row[0]
                for j in stride(from: 1, through: text.count, by: 1) {
                    next[j] = row[j] || (next[j - 1] && (crossesColons || text[j - 1] != colon))
                }
            case question:
                next[0] = false
                for j in stride(from: 1, through: text.count, by: 1) {
                    next[j] = row[j - 1] && !(colonBound && text[j - 1] == colon)
                }
            default:
                next[0] = false
                for j in stride(from: 1, through: text.count, by: 1) {
                    next[j] = row[j - 1] && text[j - 1] == c
                }
            }
            swap(&row, &next)
        }
        return row[text.count]
    }
}
