/// An HTTP API's routes compiled into a segment trie at config load; picks the most specific route for a request without allocating.
///
/// Precedence, as API Gateway selects routes for HTTP APIs ("API Gateway selects the route with the
/// most-specific match": full match, then greedy `{proxy+}`, then `$default` —
/// docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html, "Routing API
/// requests"): paths are compared segment by segment from the left; at each segment a literal beats a
/// `{variable}`, which beats a greedy `{variable+}`; for the same path, a route with the request's
/// method beats `ANY` ("the ANY method matches all methods that you haven't defined for a route");
/// `$default` is chosen last. A branch that matches the path but has neither the request's method nor
/// `ANY` is abandoned for the next less specific one, so `POST /pets/dog` reaches `ANY /pets/{id}` when
/// only `GET /pets/dog` exists.
///
/// Other rules pinned here (each also has a test):
/// - `HEAD` is a method like any other: no fallback to `GET`. The AWS route-selection rules above
///   match on "route and method" and name no such fallback.
/// - A request's single trailing slash is ignored (`/pets/` is routed as `/pets`): both REST and HTTP
///   APIs route `/hello/` to `/hello` (observed against AWS in aws-powertools/powertools-lambda-python#1552).
///   A greedy variable still captures that slash, so the integration sees the path it was sent.
/// - A variable never matches an empty segment (`/pets/` does not match `/pets/{id}`, observed by
///   aws/chalice#588), and a greedy variable needs at least one segment: `/{proxy+}` does not match `/`
///   ("To handle requests to /, add a new ANY method on the / resource" —
///   docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-set-up-simple-proxy.html).
/// - Paths are matched case-sensitively, after one round of percent-decoding (see `PathBytes`).
public struct RouteTable: Sendable {
    struct Node: Sendable {
        var firstLiteral: Int32 = 0
        var literalCount: Int32 = 0
        var variableChild: Int32 = -1
        /// Index into `slots` (times `RouteMethod.slotCount`) of routes ending here, or -1.
        var terminal: Int32 = -1
        /// Same, for routes whose greedy variable starts at this node's next segment.
        var greedyTerminal: Int32 = -1
    }

    struct LiteralEdge: Sendable {
        var byteStart: Int32
        var byteCount: Int32
        var child: Int32
    }

    private let nodes: [Node]
    private let literalEdges: [LiteralEdge]
    private let literalBytes: [UInt8]
    /// Route number per (terminal, method slot); -1 when empty.
    private let slots: [Int32]
    private let payloads: [Int]
    private let keys: [RouteKey]
    /// For route number r, its variables' indices into `parameterNames` are
    /// `routeNameIndices[routeNameStart[r] ..< routeNameStart[r + 1]]`.
    private let routeNameStart: [Int32]
    private let routeNameIndices: [Int32]
    private let defaultPayload: Int?

    /// Every path variable name used by any route, each once; `PathCaptures.Capture.nameIndex` points here.
    public let parameterNames: [String]
    /// The most variables any single route has: the capture capacity that makes matching allocation-free.
    public let maxParameterCount: Int

    /// Compiles `routes`; `payload` is what `match` returns for that route (typically its index in the API's route list).
    public init(routes: [(routeKey: String, payload: Int)]) throws(RouteTableError) {
        var builder = Builder()
        for route in routes {
            let key: RouteKey
            do {
                key = try RouteKey(parsing: route.routeKey)
            } catch {
                throw .invalidRouteKey(route.routeKey, error)
            }
            try builder.add(key, text: route.routeKey, payload: route.payload)
        }
        let compiled = builder.compile()
        nodes = compiled.nodes
        literalEdges = compiled.literalEdges
        literalBytes = compiled.literalBytes
        slots = builder.slots
        payloads = builder.payloads
        keys = builder.keys
        routeNameStart = builder.routeNameStart
        routeNameIndices = builder.routeNameIndices
        defaultPayload = builder.defaultPayload
        parameterNames = builder.parameterNames
        maxParameterCount = builder.maxParameterCount
    }

    /// A capture buffer sized for this table; keep one per worker and pass it to every `match`.
    public func makeCaptures() -> PathCaptures {
        PathCaptures(capacity: Swift.max(maxParameterCount, 1))
    }

    /// The route key whose payload is `payload`, for `routeKey` in events and access logs.
    public func routeKey(forPayload payload: Int) -> RouteKey? {
        if payload == defaultPayload { return .defaultRoute }
        return payloads.firstIndex(of: payload).map { keys[$0] }
    }

    /// Chooses the route for a request: `method` is the request method's bytes, `path` the path
    /// without the query string and without any stage or base-path prefix (empty means `/`).
    /// Returns the route's payload, `$default`'s if nothing else matches, or nil (AWS answers 404
    /// `{"message":"Not Found"}`). `captures` is overwritten with the matched route's variables.
    public func match(
        method: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer, captures: inout PathCaptures
    ) -> Int? {
        captures.removeAll()
        let route = matchRoute(method: RouteTable.methodSlot(method), path: path, captures: &captures)
        guard route >= 0 else {
            captures.removeAll()
            return defaultPayload
        }
        let first = Int(routeNameStart[Int(route)])
        for i in 0..<captures.count {
            captures.setNameIndex(Int(routeNameIndices[first + i]), at: i)
        }
        return payloads[Int(route)]
    }

    /// `match` for callers that hold strings (tests, the admin API); not for the request path.
    public func match(method: String, path: String, captures: inout PathCaptures) -> Int? {
        var method = method
        var path = path
        return method.withUTF8 { m in
            path.withUTF8 { p in
                match(method: UnsafeRawBufferPointer(m), path: UnsafeRawBufferPointer(p), captures: &captures)
            }
        }
    }

    /// The matched route's path parameters as AWS passes them (`pathParameters`), decoded with
    /// `PathParameterDecoding`; `path` must be the same bytes given to `match`. Off the hot path.
    public func pathParameters(
        _ captures: PathCaptures, path: UnsafeRawBufferPointer
    ) -> [(name: String, value: String)] {
        (0..<captures.count).map { i in
            let capture = captures[i]
            let raw = UnsafeRawBufferPointer(rebasing: path[capture.start..<capture.end])
            return (parameterNames[capture.nameIndex], PathParameterDecoding.value(of: raw))
        }
    }

    /// `pathParameters` for a path held as a string.
    public func pathParameters(_ captures: PathCaptures, path: String) -> [(name: String, value: String)] {
        var path = path
        return path.withUTF8 { pathParameters(captures, path: UnsafeRawBufferPointer($0)) }
    }

    // MARK: Matching

    private func matchRoute(method: Int, path: UnsafeRawBufferPointer, captures: inout PathCaptures) -> Int32 {
        let count = path.count
        if count == 0 { return pick(nodes[0].terminal, method) }
        // Only origin-form paths can name a route; anything else ("*", absolute-form) is left to $default.
        guard path[0] == PathBytes.slash else { return -1 }
        var limit = count
        if count >= 2, path[count - 1] == PathBytes.slash, path[count - 2] != PathBytes.slash {
            limit = count - 1
        }
        return matchNode(0, path, segmentStart: limit > 1 ? 1 : nil, limit: limit, method: method,
                         captures: &captures)
    }

    private func matchNode(
        _ index: Int, _ path: UnsafeRawBufferPointer, segmentStart: Int?, limit: Int, method: Int,
        captures: inout PathCaptures
    ) -> Int32 {
        let node = nodes[index]
        guard let start = segmentStart else { return pick(node.terminal, method) }
        let (end, next) = PathBytes.segment(in: path, from: start, limit: limit)

        if node.literalCount > 0 {
            let rawLength = end - start
            var hasEscape = false
            for i in start..<end where path[i] == PathBytes.percent {
                hasEscape = true
                break
            }
            let firstEdge = Int(node.firstLiteral)
            for e in firstEdge..<(firstEdge + Int(node.literalCount)) {
                let edge = literalEdges[e]
                let length = Int(edge.byteCount)
                // Without escapes the raw length is the decoded length; with them it can only shrink.
                if hasEscape ? length > rawLength : length != rawLength { continue }
                let equal = literalBytes.withUnsafeBufferPointer { bytes in
                    PathBytes.decodedEquals(
                        path, start, end,
                        UnsafeBufferPointer(rebasing: bytes[Int(edge.byteStart)..<(Int(edge.byteStart) + length)]))
                }
                guard equal else { continue }
                let found = matchNode(Int(edge.child), path, segmentStart: next, limit: limit, method: method,
                                      captures: &captures)
                if found >= 0 { return found }
            }
        }

        guard end > start else { return -1 }

        if node.variableChild >= 0 {
            let mark = captures.count
            captures.append(start: start, end: end)
            let found = matchNode(Int(node.variableChild), path, segmentStart: next, limit: limit, method: method,
                                  captures: &captures)
            if found >= 0 { return found }
            captures.truncate(to: mark)
        }

        let greedy = pick(node.greedyTerminal, method)
        if greedy >= 0 {
            captures.append(start: start, end: path.count)
            return greedy
        }
        return -1
    }

    /// The route at `terminal` for the method slot, else its `ANY` route, else -1.
    @inline(__always)
    private func pick(_ terminal: Int32, _ method: Int) -> Int32 {
        guard terminal >= 0 else { return -1 }
        let base = Int(terminal) * RouteMethod.slotCount
        if method >= 0 {
            let exact = slots[base + method]
            if exact >= 0 { return exact }
        }
        return slots[base + RouteMethod.any.slot]
    }

    /// The method's slot, or -1 for methods no route key can name (they reach only `ANY` routes).
    /// Methods are case-sensitive (RFC 9110 §9.1).
    static func methodSlot(_ m: UnsafeRawBufferPointer) -> Int {
        @inline(__always) func equals(_ text: StaticString) -> Bool {
            guard m.count == text.utf8CodeUnitCount else { return false }
            let t = text.utf8Start
            for i in 0..<m.count where m[i] != t[i] { return false }
            return true
        }
        switch m.count {
        case 3:
            if equals("GET") { return RouteMethod.get.slot }
            if equals("PUT") { return RouteMethod.put.slot }
        case 4:
            if equals("POST") { return RouteMethod.post.slot }
            if equals("HEAD") { return RouteMethod.head.slot }
        case 5:
            if equals("PATCH") { return RouteMethod.patch.slot }
        case 6:
            if equals("DELETE") { return RouteMethod.delete.slot }
        case 7:
            if equals("OPTIONS") { return RouteMethod.options.slot }
        default:
            break
        }
        return -1
    }
}

/// Why a route table could not be compiled; names the offending route key.
public enum RouteTableError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidRouteKey(String, RouteKeyError)
    /// Two keys that match exactly the same requests (same method, same path shape; variable names aside).
    case duplicateRouteKey(String, existing: String)

    public var message: String {
        switch self {
        case .invalidRouteKey(let key, let error):
            "invalid route key '\(key)': \(error.message)"
        case .duplicateRouteKey(let key, let existing) where key == existing:
            "duplicate route key '\(key)'"
        case .duplicateRouteKey(let key, let existing):
            "route key '\(key)' duplicates '\(existing)': both match the same requests"
        }
    }

    public var description: String { message }
}

// MARK: - Building

extension RouteTable {
    fileprivate struct BuildNode {
        var literals: [(text: String, child: Int)] = []
        var variableChild: Int?
        var terminal: Int?
        var greedyTerminal: Int?
    }

    fileprivate struct Builder {
        var nodes: [BuildNode] = [BuildNode()]
        var slots: [Int32] = []
        var payloads: [Int] = []
        var keys: [RouteKey] = []
        var texts: [String] = []
        var routeNameStart: [Int32] = [0]
        var routeNameIndices: [Int32] = []
        var parameterNames: [String] = []
        var nameIndex: [String: Int] = [:]
        var maxParameterCount = 0
        var defaultPayload: Int?
        var defaultText: String?

        mutating func add(_ key: RouteKey, text: String, payload: Int) throws(RouteTableError) {
            guard case .route(let method, let segments) = key else {
                if let defaultText { throw .duplicateRouteKey(text, existing: defaultText) }
                defaultPayload = payload
                defaultText = text
                return
            }
            var node = 0
            var endsGreedy = false
            for segment in segments {
                switch segment {
                case .literal(let literal):
                    if let existing = nodes[node].literals.first(where: { $0.text == literal }) {
                        node = existing.child
                    } else {
                        nodes.append(BuildNode())
                        nodes[node].literals.append((literal, nodes.count - 1))
                        node = nodes.count - 1
                    }
                case .variable:
                    if let child = nodes[node].variableChild {
                        node = child
                    } else {
                        nodes.append(BuildNode())
                        nodes[node].variableChild = nodes.count - 1
                        node = nodes.count - 1
                    }
                case .greedy:
                    endsGreedy = true
                }
            }
            let terminal: Int
            if let existing = endsGreedy ? nodes[node].greedyTerminal : nodes[node].terminal {
                terminal = existing
            } else {
                terminal = slots.count / RouteMethod.slotCount
                slots.append(contentsOf: repeatElement(-1, count: RouteMethod.slotCount))
                if endsGreedy { nodes[node].greedyTerminal = terminal } else { nodes[node].terminal = terminal }
            }
            let slot = terminal * RouteMethod.slotCount + method.slot
            if slots[slot] >= 0 {
                throw .duplicateRouteKey(text, existing: texts[Int(slots[slot])])
            }
            slots[slot] = Int32(payloads.count)
            payloads.append(payload)
            keys.append(key)
            texts.append(text)
            let names = key.parameterNames
            for name in names {
                if let index = nameIndex[name] {
                    routeNameIndices.append(Int32(index))
                } else {
                    nameIndex[name] = parameterNames.count
                    routeNameIndices.append(Int32(parameterNames.count))
                    parameterNames.append(name)
                }
            }
            routeNameStart.append(Int32(routeNameIndices.count))
            maxParameterCount = Swift.max(maxParameterCount, names.count)
        }

        func compile() -> (nodes: [Node], literalEdges: [LiteralEdge], literalBytes: [UInt8]) {
            var compiled: [Node] = []
            var edges: [LiteralEdge] = []
            var bytes: [UInt8] = []
            compiled.reserveCapacity(nodes.count)
            for node in nodes {
                var out = Node()
                out.firstLiteral = Int32(edges.count)
                out.literalCount = Int32(node.literals.count)
                for literal in node.literals {
                    let utf8 = Array(literal.text.utf8)
                    edges.append(LiteralEdge(byteStart: Int32(bytes.count), byteCount: Int32(utf8.count),
                                             child: Int32(literal.child)))
                    bytes.append(contentsOf: utf8)
                }
                out.variableChild = Int32(node.variableChild ?? -1)
                out.terminal = Int32(node.terminal ?? -1)
                out.greedyTerminal = Int32(node.greedyTerminal ?? -1)
                compiled.append(out)
            }
            return (compiled, edges, bytes)
        }
    }
}
