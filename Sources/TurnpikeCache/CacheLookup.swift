/// The outcome of one cache lookup, with the caller's duty in each case.
public enum CacheLookup: Sendable {
    /// Answer from the stored response.
    case hit(CachedResponse)
    /// The caller is now the one filler for this key: it goes upstream and must then call
    /// `complete` (cacheable response) or `abandon` (failure, or not cacheable).
    case fill
    /// Another exchange is filling this key; the waiter was registered and will be handed to
    /// that filler's `complete` or `abandon`.
    case wait
}
