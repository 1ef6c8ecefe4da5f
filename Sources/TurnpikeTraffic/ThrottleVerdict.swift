/// What a throttle or quota says about one request: go ahead, or refuse it and tell the client when to retry.
public enum ThrottleVerdict: Sendable, Equatable {
    case admitted
    /// `retryAfterSeconds` is at least 1: it goes out as `Retry-After`, whose unit is whole seconds.
    case limited(retryAfterSeconds: Int)
}
