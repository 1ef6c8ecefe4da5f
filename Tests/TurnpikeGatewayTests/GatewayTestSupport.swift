import XCTest
import TurnpikeConfig
import TurnpikeGateway
import TurnpikeRouting

/// Builds a `RequestHead` from strings the way the shim would hand it over: every slice
/// points into one byte buffer that lives exactly as long as `body` runs.
/// `target` is the request target with an optional `?query`; the Host slice is the first
/// `host` field; the content length comes from a `content-length` field (-1 without one).
func withRequest<R>(
    method: String = "GET", target: String, headers: [(String, String)] = [],
    clientIP: String = "203.0.113.7", localPort: UInt16 = 8080, listenerIndex: Int = 0,
    httpVersionMinor: UInt8 = 1, _ body: (RequestHead) throws -> R
) rethrows -> R {
    let path: Substring
    let query: Substring
    let hasQuery: Bool
    if let mark = target.firstIndex(of: "?") {
        path = target[..<mark]
        query = target[target.index(after: mark)...]
        hasQuery = true
    } else {
        path = target[...]
        query = ""
        hasQuery = false
    }
    var pieces: [[UInt8]] = [Array(method.utf8), Array(path.utf8), Array(query.utf8), Array(clientIP.utf8)]
    for (name, value) in headers {
        pieces.append(Array(name.utf8))
        pieces.append(Array(value.utf8))
    }
    let storage = UnsafeMutableRawBufferPointer.allocate(
        byteCount: max(1, pieces.reduce(0) { $0 + $1.count }), alignment: 1)
    defer { storage.deallocate() }
    var slices: [UnsafeRawBufferPointer] = []
    var offset = 0
    for piece in pieces {
        let slice = UnsafeMutableRawBufferPointer(rebasing: storage[offset..<(offset + piece.count)])
        slice.copyBytes(from: piece)
        slices.append(UnsafeRawBufferPointer(slice))
        offset += piece.count
    }
    let fields = UnsafeMutableBufferPointer<HeaderField>.allocate(capacity: max(1, headers.count))
    defer { fields.deallocate() }
    var host = UnsafeRawBufferPointer(start: nil, count: 0)
    var contentLength: Int64 = -1
    var chunked = false
    for (i, (name, value)) in headers.enumerated() {
        let field = HeaderField(name: slices[4 + 2 * i], value: slices[5 + 2 * i])
        (fields.baseAddress! + i).initialize(to: field)
        switch name.lowercased() {
        case "host" where host.baseAddress == nil: host = field.value
        case "content-length": contentLength = Int64(value) ?? -1
        case "transfer-encoding": chunked = value.lowercased().contains("chunked")
        default: break
        }
    }
    let head = RequestHead(
        method: slices[0], path: slices[1], query: slices[2], hasQuery: hasQuery, host: host,
        headers: UnsafeBufferPointer(start: fields.baseAddress, count: headers.count),
        contentLength: contentLength, chunked: chunked, httpVersionMinor: httpVersionMinor,
        clientIP: slices[3], localPort: localPort, listenerIndex: listenerIndex)
    return try body(head)
}

/// Compiles a configuration written as YAML, failing the test with every issue if it is invalid.
func compileSnapshot(
    _ yaml: String, registry: EndpointRegistry = EndpointRegistry(), generation: Int = 1,
    file: StaticString = #filePath, line: UInt = #line
) throws -> GatewaySnapshot {
    let config: GatewayConfig
    do {
        config = try ConfigLoader.parse(text: yaml, fileName: "test.yaml")
    } catch {
        XCTFail("config issues:\n\(error)", file: file, line: line)
        throw error
    }
    do {
        return try GatewaySnapshot(config: config, registry: registry, generation: generation)
    } catch {
        XCTFail("snapshot error: \(error)", file: file, line: line)
        throw error
    }
}

/// A request id with exactly these 16 characters.
func fixedRequestId(_ text: String = "JXkbXhJZIAMEVhQ=") -> RequestId {
    precondition(text.utf8.count == 16)
    var bytes: (UInt64, UInt64) = (0, 0)
    withUnsafeMutableBytes(of: &bytes) { $0.copyBytes(from: Array(text.utf8)) }
    return RequestId(bytes: bytes)
}

/// 26/Nov/2026:13:42:32 +0000, in milliseconds.
let fixedEpochMs: UInt64 = 1_795_700_552_000

/// What the whole pipeline decided for one request, with the upstream head as text.
enum PipelineOutcome: Equatable {
    case respond(GatewayResponse)
    case preflight
    case cacheHit(status: Int, body: String)
    case proxy(head: String, targetGroup: String, endpoint: String)
    /// AWS_PROXY: the function and payload format.
    case invoke(function: String, format: String)
    /// The route's Lambda authorizer must be invoked (its index).
    case authorize(authorizer: Int)
    /// A Lambda authorizer's cached refusal.
    case authorizerRefused(status: Int)
}

/// Runs requests through `Pipeline.run` against one snapshot, reusing the state as a worker does.
struct PipelineHarness {
    let snapshot: GatewaySnapshot
    var state = PipelineState()
    var requestId = fixedRequestId()
    var nowNs: UInt64 = 1_000_000_000

    init(snapshot: GatewaySnapshot) {
        self.snapshot = snapshot
    }

    init(yaml: String, file: StaticString = #filePath, line: UInt = #line) throws {
        snapshot = try compileSnapshot(yaml, file: file, line: line)
    }

    mutating func run(
        method: String = "GET", target: String, headers: [(String, String)] = [],
        clientIP: String = "203.0.113.7", localPort: UInt16 = 8080, listenerIndex: Int = 0
    ) -> PipelineOutcome {
        withRequest(
            method: method, target: target, headers: headers, clientIP: clientIP,
            localPort: localPort, listenerIndex: listenerIndex
        ) { head in
            switch Pipeline.run(
                request: head, snapshot: snapshot, state: &state, requestId: requestId,
                nowNs: nowNs, epochMs: fixedEpochMs)
            {
            case .respond(let response, _):
                return .respond(response)
            case .preflight:
                return .preflight
            case .cacheHit(let cached, _):
                return .cacheHit(status: cached.status, body: String(decoding: cached.body, as: UTF8.self))
            case .proxy(let plan):
                let endpoint = plan.endpoint.endpoint
                return .proxy(
                    head: String(decoding: state.upstreamHead, as: UTF8.self),
                    targetGroup: snapshot.targetGroups[plan.targetGroup].name,
                    endpoint: "\(endpoint.host):\(endpoint.port)")
            case .invoke(let plan):
                return .invoke(function: plan.target.functionName, format: plan.target.format.rawValue)
            case .authorize(let plan):
                return .authorize(authorizer: plan.authorizer)
            case .authorizerRefused(let decision, _):
                return .authorizerRefused(status: decision.status)
            }
        }
    }

    /// The upstream head text, or a test failure naming the gateway response instead.
    mutating func upstreamHead(
        method: String = "GET", target: String, headers: [(String, String)] = [],
        clientIP: String = "203.0.113.7", localPort: UInt16 = 8080,
        file: StaticString = #filePath, line: UInt = #line
    ) -> String {
        switch run(method: method, target: target, headers: headers, clientIP: clientIP, localPort: localPort) {
        case .proxy(let head, _, _): return head
        case let other:
            XCTFail("expected a proxied request, got \(other)", file: file, line: line)
            return ""
        }
    }
}

/// Resolves one request, returning the selection or the gateway response.
func resolve(
    _ snapshot: GatewaySnapshot, method: String = "GET", target: String, host: String? = nil,
    listenerIndex: Int = 0
) -> Result<Resolution, GatewayResponse> {
    var captures = PathCaptures(capacity: 8)
    var random = SplitMix64(seed: 7)
    return withRequest(
        method: method, target: target, headers: host.map { [("Host", $0)] } ?? [],
        listenerIndex: listenerIndex
    ) { head in
        ResolvePhase.run(request: head, snapshot: snapshot, captures: &captures, random: &random)
    }
}
