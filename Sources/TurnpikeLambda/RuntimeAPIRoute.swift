/// A request a function process makes to the Lambda Runtime API (2018-06-01).
public enum RuntimeAPIRoute: Equatable, Sendable {
    /// `GET /2018-06-01/runtime/invocation/next`: long-poll for the next event.
    case next
    /// `POST /2018-06-01/runtime/invocation/{id}/response`.
    case response(requestId: String)
    /// `POST /2018-06-01/runtime/invocation/{id}/error`.
    case error(requestId: String)
    /// `POST /2018-06-01/runtime/init/error`.
    case initError
    /// Anything else: 404.
    case unknown

    public static func parse(method: String, path: String) -> RuntimeAPIRoute {
        let prefix = "/2018-06-01/runtime/"
        guard path.hasPrefix(prefix) else { return .unknown }
        let parts = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        switch (method, parts.count) {
        case ("GET", 2) where parts[0] == "invocation" && parts[1] == "next": return .next
        case ("POST", 2) where parts[0] == "init" && parts[1] == "error": return .initError
        case ("POST", 3) where parts[0] == "invocation" && !parts[1].isEmpty:
            if parts[2] == "response" { return .response(requestId: String(parts[1])) }
            if parts[2] == "error" { return .error(requestId: String(parts[1])) }
            return .unknown
        default: return .unknown
        }
    }
}
