/// A token whose signature and claims checked out: what mappings, Lambda events and
/// access logs read. Immutable and shared between the workers' caches.
public final class VerifiedToken: Sendable {
    /// Every claim as text (`$context.authorizer.claims.NAME`); see `JSONValue.claimText`.
    public let claims: [String: String]
    /// From `scope` (space-separated) and `scp` (array or space-separated string).
    public let scopes: [String]
    /// `exp`, seconds since the epoch.
    public let expiresAt: Int64
    public let sub: String?

    init(claims: [String: String], scopes: [String], expiresAt: Int64, sub: String?) {
        self.claims = claims
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.sub = sub
    }

    /// A route's `authorizationScopes` are met when the token has at least one of
    /// them; a route without any accepts every valid token.
    public func hasAnyScope(of required: [String]) -> Bool {
        if required.isEmpty { return true }
        for scope in scopes where required.contains(scope) { return true }
        return false
    }
}
