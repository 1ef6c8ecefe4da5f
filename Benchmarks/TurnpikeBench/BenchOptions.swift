import ArgumentParser

/// The load generator's flags, shared by `turnpike-bench` and `turnpike bench`.
public struct BenchOptions: ParsableArguments {
    public init() {}

    @Argument(help: "URL(s) to load, all on one scheme://host:port (a mix: several URLs, or --url-file).")
    public var urls: [String] = []

    @Option(name: .long, help: "File of requests, one per line: [WEIGHT] [METHOD] URL (# comments).")
    public var urlFile: String?

    @Option(name: [.customShort("c", allowingJoined: true), .long], help: "Open connections (HTTP/1.1) or sessions (HTTP/2).")
    public var connections: Int = 50

    @Option(name: [.customShort("t", allowingJoined: true), .long], help: "Threads, each with its own event loop and share of the connections.")
    public var threads: Int = 1

    @Option(name: [.customShort("d", allowingJoined: true), .long], help: "Counted duration after the warm-up: 10s, 500ms, 2m.")
    public var duration: String = "10s"

    @Option(name: [.customShort("n", allowingJoined: true), .long], help: "Make exactly this many counted requests instead of running for a duration.")
    public var requests: Int?

    @Option(name: .long, help: "Warm-up before counting starts (not counted): 2s.")
    public var warmup: String = "0s"

    @Option(name: [.customShort("R", allowingJoined: true), .long], help: "Open loop: send this many requests per second in total on a fixed schedule; latency is measured from each request's intended send time.")
    public var rate: Double?

    @Flag(name: [.customLong("h2"), .customLong("http2")], help: "HTTP/2 (ALPN h2 over TLS, prior knowledge over cleartext).")
    public var http2 = false

    @Option(name: [.customShort("m", allowingJoined: true), .long], help: "HTTP/2 streams in flight per connection.")
    public var streams: Int = 1

    @Option(name: [.customShort("p", allowingJoined: true), .long], help: "HTTP/1.1 requests pipelined per connection.")
    public var pipeline: Int = 1

    @Option(name: [.customShort("X"), .long], help: "Request method.")
    public var method: String = "GET"

    @Option(name: [.customShort("H"), .customLong("header")], help: "A header field 'Name: value' (repeatable).")
    public var headers: [String] = []

    @Option(name: .long, help: "File of header fields, one 'Name: value' per line.")
    public var headerFile: String?

    @Option(name: .long, help: "Request body.")
    public var body: String?

    @Option(name: .long, help: "Request body from a file.")
    public var bodyFile: String?

    @Option(name: .long, help: "A header field whose value differs per connection (e.g. x-api-key, authorization).")
    public var varyHeader: String?

    @Option(name: .long, help: "Values for --vary-header, one per line; connection i uses line i mod count.")
    public var varyFile: String?

    @Option(name: .long, help: "A request (or connect) without a complete answer by then fails as a timeout: 10s.")
    public var timeout: String = "10s"

    @Flag(name: [.customShort("k"), .long], help: "TLS: do not verify the server's certificate.")
    public var insecure = false

    @Option(name: .long, help: "TLS: server name to send (SNI) and verify (default: the URL's host).")
    public var sni: String?

    @Option(name: .long, help: "TLS: PEM CA bundle to verify the server with (default: the system's).")
    public var cacert: String?

    @Flag(name: .long, help: "Print the result as one JSON object.")
    public var json = false

    @Flag(name: .long, help: "No live progress line (it is shown only on a terminal anyway).")
    public var noProgress = false

    public func validate() throws {
        if urls.isEmpty && urlFile == nil { throw ValidationError("give a URL (or --url-file)") }
        if connections < 1 { throw ValidationError("--connections must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if streams < 1 { throw ValidationError("--streams must be at least 1") }
        if pipeline < 1 { throw ValidationError("--pipeline must be at least 1") }
        if let requests, requests < 1 { throw ValidationError("--requests must be at least 1") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive") }
        if body != nil && bodyFile != nil { throw ValidationError("--body and --body-file exclude each other") }
        if (varyHeader == nil) != (varyFile == nil) { throw ValidationError("--vary-header and --vary-file go together") }
        for text in [duration, warmup, timeout] where Duration.parseNanoseconds(text) == nil {
            throw ValidationError("'\(text)' is not a duration (10s, 500ms, 2m)")
        }
    }
}

extension Duration {
    /// "10s", "500ms", "2m", "1.5s", "250us" or a bare number of seconds → nanoseconds.
    static func parseNanoseconds(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value >= 0 else { return nil }
            return UInt64(value * scale)
        }
        guard let value = Double(text), value >= 0 else { return nil }
        return UInt64(value * 1e9)
    }
}
