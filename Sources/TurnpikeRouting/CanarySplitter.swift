// Canary traffic splitting for a stage. API Gateway sends a stage's `canarySettings.percentTraffic`
// (0.0–100.0, fractional) of requests to the canary deployment, chosen per request; Turnpike can
// also make the choice sticky per client, from a header or cookie value.

/// Decides, per request, whether a stage's canary deployment serves it.
///
/// The share is a threshold on 64-bit values: a request goes to the canary when its value is
/// below `percentTraffic / 100 × 2⁶⁴`. The value is the caller's random number, or — when the
/// split is sticky and the request carries the header or cookie — a fixed hash of that value,
/// so one client always lands on the same side, and raising the percentage only moves clients
/// from the main deployment to the canary, never back.
public struct CanarySplitter: Sendable, Equatable {
    /// Where a sticky split reads the client's identity.
    public enum StickySource: Sendable, Equatable {
        /// A request header, by lowercased name.
        case header(String)
        /// A cookie in the `Cookie` header, by exact (case-sensitive) name.
        case cookie(String)
    }

    /// The share of requests (or of clients, when sticky) for the canary, clamped to 0...100.
    public let percentTraffic: Double
    public let sticky: StickySource?
    /// The header or cookie name as bytes, for allocation-free lookups; empty when not sticky.
    public let stickyName: [UInt8]
    /// Requests whose value is below this go to the canary; unused when `everything`.
    private let threshold: UInt64
    /// 100%: every value, including `UInt64.max`, goes to the canary.
    private let everything: Bool

    /// `percentTraffic` outside 0...100 is clamped and NaN counts as 0; configuration
    /// validation rejects such values before a splitter is built.
    public init(percentTraffic: Double, sticky: StickySource? = nil) {
        let percent = percentTraffic.isNaN ? 0 : min(max(percentTraffic, 0), 100)
        self.percentTraffic = percent
        self.sticky = sticky
        switch sticky {
        case .header(let name): stickyName = Array(name.lowercased().utf8)
        case .cookie(let name): stickyName = Array(name.utf8)
        case nil: stickyName = []
        }
        let scaled = percent / 100 * 18_446_744_073_709_551_616.0
        everything = percent >= 100
        threshold = scaled < 18_446_744_073_709_551_616.0 ? UInt64(scaled) : .max
    }

    /// Whether this request goes to the canary. `random` comes from the worker's fast PRNG
    /// (`SplitMix64`); `stickyValue` is the sticky header's or cookie's value, nil or empty when
    /// the request has none (then the choice is random). Without `sticky`, `stickyValue` is ignored.
    @inline(__always)
    public func routesToCanary(random: UInt64, stickyValue: UnsafeRawBufferPointer?) -> Bool {
        if everything { return true }
        if sticky != nil, let value = stickyValue, !value.isEmpty {
            return Self.stableHash(value) < threshold
        }
        return random < threshold
    }

    /// A hash of a client's sticky value that is the same in every worker, process and release:
    /// FNV-1a 64 over the bytes, then SplitMix64's finalizer so that every bit (the threshold
    /// compares the high ones) depends on every input byte.
    @inline(__always)
    public static func stableHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return SplitMix64.mix(hash)
    }

    /// The value of the first cookie called `name` in a `Cookie` header's value
    /// (`a=1; b=2`, RFC 6265 §5.4), without surrounding double quotes; nil when absent.
    /// Pairs are split on `;` and trimmed of spaces and tabs, so `a=1;b=2` is read too.
    public static func cookieValue(
        named name: UnsafeRawBufferPointer, in header: UnsafeRawBufferPointer
    ) -> UnsafeRawBufferPointer? {
        var start = 0
        let count = header.count
        while start < count {
            var end = start
            while end < count, header[end] != UInt8(ascii: ";") { end += 1 }
            var low = start
            var high = end
            while low < high, header[low] == UInt8(ascii: " ") || header[low] == UInt8(ascii: "\t") { low += 1 }
            while high > low, header[high - 1] == UInt8(ascii: " ") || header[high - 1] == UInt8(ascii: "\t") { high -= 1 }
            if high - low > name.count, header[low + name.count] == UInt8(ascii: "="),
               bytesEqual(header, low, name) {
                var valueStart = low + name.count + 1
                var valueEnd = high
                if valueEnd - valueStart >= 2, header[valueStart] == UInt8(ascii: "\""),
                   header[valueEnd - 1] == UInt8(ascii: "\"") {
                    valueStart += 1
                    valueEnd -= 1
                }
                return UnsafeRawBufferPointer(rebasing: header[valueStart..<valueEnd])
            }
            start = end + 1
        }
        return nil
    }

    @inline(__always)
    private static func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ name: UnsafeRawBufferPointer) -> Bool {
        for index in 0..<name.count where bytes[offset + index] != name[index] { return false }
        return true
    }
}

/// A tiny, fast, per-worker pseudo-random generator (SplitMix64, Steele, Lea & Flood,
/// "Fast splittable pseudorandom number generators", OOPSLA 2014). Not for secrets: it only
/// spreads requests between deployments.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        return Self.mix(state)
    }

    /// SplitMix64's output finalizer: a bijection on 64 bits with full avalanche.
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
