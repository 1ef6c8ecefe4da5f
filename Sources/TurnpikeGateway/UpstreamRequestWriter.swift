import TurnpikeConfig

/// The integrate phase's output for HTTP_PROXY: the request head the upstream receives —
/// method, mapped path and query, the client's end-to-end fields, forwarding fields and
/// parameter mappings. Framing fields are left to the transport.
public enum UpstreamRequestWriter {
    public static func write(
        integration: StageIntegration, context: MappingContext, into out: inout [UInt8]
    ) {
        let request = context.request
        if let method = integration.method { out.append(contentsOf: method) } else { out.append(request.method) }
        out.append(UInt8(ascii: " "))
        if integration.mapsPathOrQuery {
            writeMappedTarget(integration: integration, context: context, into: &out)
        } else {
            writePath(integration: integration, context: context, into: &out)
            writeQuery(uriQuery: integration.uriQuery, clientQuery: request.hasQuery ? request.query : nil, into: &out)
        }
        out.append(ascii: " HTTP/1.1\r\nhost: ")
        out.append(contentsOf: integration.hostHeader)
        out.append(ascii: "\r\n")

        let mappings = integration.requestParameters
        let listed = HopByHopHeaders.hasListedNames(request.headers)
            ? HopByHopHeaders.connectionListed(request.headers) : []
        var forwardedFor: UnsafeRawBufferPointer? = nil
        for field in request.headers {
            switch HopByHopHeaders.classifyRequest(field.name) {
            case .drop: continue
            case .xForwardedFor:
                forwardedFor = field.value
                continue
            case .forward: break
            }
            if !listed.isEmpty && listed.contains(where: { ASCII.equalsLowercased(field.name, $0) }) { continue }
            if !mappings.isEmpty && isReplacedByMapping(field.name, mappings) { continue }
            out.append(field.name)
            out.append(ascii: ": ")
            out.append(field.value)
            out.append(ascii: "\r\n")
        }
        out.append(ascii: "x-forwarded-for: ")
        if let prior = forwardedFor, !prior.isEmpty {
            out.append(prior)
            out.append(ascii: ", ")
        }
        out.append(request.clientIP)
        if request.isTLS { out.append(ascii: "\r\nx-forwarded-proto: https\r\nx-forwarded-port: ") } else { out.append(ascii: "\r\nx-forwarded-proto: http\r\nx-forwarded-port: ") }
        out.append(decimal: Int(request.localPort))
        out.append(ascii: "\r\nforwarded: for=")
        let v6 = request.clientIP.contains(UInt8(ascii: ":"))
        if v6 { out.append(ascii: "\"[") }
        out.append(request.clientIP)
        if v6 { out.append(ascii: "]\"") }
        if !request.host.isEmpty {
            out.append(ascii: ";host=")
            appendForwardedValue(request.host, into: &out)
        }
        if request.isTLS { out.append(ascii: ";proto=https\r\n") } else { out.append(ascii: ";proto=http\r\n") }

        for mapping in mappings {
            guard case .header(let name) = mapping.target, mapping.action != .remove else { continue }
            let start = out.count
            out.append(string: name)
            out.append(ascii: ": ")
            let existing = mapping.action == .append ? request.header(Array(name.utf8)) : nil
            if let existing {
                out.append(existing)
                out.append(ascii: ",")
            }
            let valueStart = out.count
            context.evaluate(mapping.value, into: &out)
            if out.count == valueStart {
                // A value that resolves to nothing (e.g. a claim of an absent token) sends no
                // field rather than an empty one; an appended field keeps its old value.
                out.removeSubrange(start...)
                if let existing {
                    out.append(string: name)
                    out.append(ascii: ": ")
                    out.append(existing)
                    out.append(ascii: "\r\n")
                }
                continue
            }
            out.append(ascii: "\r\n")
        }
    }

    /// RFC 7239 §4: a value is a token or else a quoted-string, so a Host with a port (':' is
    /// no token character) stays valid and a client's ';' or ',' cannot add parameters.
    private static func appendForwardedValue(_ value: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        if value.allSatisfy(isTokenCharacter) {
            out.append(value)
            return
        }
        out.append(UInt8(ascii: "\""))
        for b in value {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func isTokenCharacter(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func isReplacedByMapping(_ name: UnsafeRawBufferPointer, _ mappings: [ParameterMapping]) -> Bool {
        // Overwritten and removed fields go; appended ones are re-emitted with the addition.
        mappings.contains { m in
            if case .header(let target) = m.target { return ASCII.equalsLowercased(name, Array(target.utf8)) }
            return false
        }
    }

    private static func writePath(integration: StageIntegration, context: MappingContext, into out: inout [UInt8]) {
        if integration.passesClientPath {
            if context.routePath.isEmpty { out.append(UInt8(ascii: "/")) } else { out.append(context.routePath) }
            return
        }
        for part in integration.pathParts {
            switch part {
            case .literal(let bytes): out.append(contentsOf: bytes)
            case .pathParameter(let index):
                if let value = context.pathParameter(index: index) { out.append(value) }
            }
        }
    }

    private static func writeQuery(uriQuery: [UInt8]?, clientQuery: UnsafeRawBufferPointer?, into out: inout [UInt8]) {
        let hasUri = !(uriQuery?.isEmpty ?? true)
        let hasClient = !(clientQuery?.isEmpty ?? true)
        guard hasUri || hasClient else { return }
        out.append(UInt8(ascii: "?"))
        if hasUri { out.append(contentsOf: uriQuery!) }
        if hasUri && hasClient { out.append(UInt8(ascii: "&")) }
        if hasClient { out.append(clientQuery!) }
    }

    /// The slow path: some mapping rewrites the path or the query string.
    private static func writeMappedTarget(integration: StageIntegration, context: MappingContext, into out: inout [UInt8]) {
        var path: [UInt8] = []
        writePath(integration: integration, context: context, into: &path)
        var query: [([UInt8], [UInt8])] = []
        if let q = integration.uriQuery { q.withUnsafeBytes { for (k, v) in QueryString.pairs($0) { query.append((Array(k), Array(v))) } } }
        if context.request.hasQuery {
            for (k, v) in QueryString.pairs(context.request.query) { query.append((Array(k), Array(v))) }
        }
        for mapping in integration.requestParameters {
            switch mapping.target {
            case .path:
                var raw: [UInt8] = []
                context.evaluate(mapping.value, into: &raw)
                // A header or query value must not break the request line or start a query.
                path = []
                QueryString.appendPathEncoded(raw, to: &path)
                if path.first != UInt8(ascii: "/") { path.insert(UInt8(ascii: "/"), at: 0) }
            case .querystring(let name):
                let key = Array(name.utf8)
                var value: [UInt8] = []
                context.evaluate(mapping.value, into: &value)
                var encoded: [UInt8] = []
                QueryString.appendEncoded(value, to: &encoded)
                switch mapping.action {
                case .overwrite:
                    query.removeAll { $0.0 == key }
                    query.append((key, encoded))
                case .append:
                    query.append((key, encoded))
                case .remove:
                    query.removeAll { $0.0 == key }
                }
            default:
                continue
            }
        }
        out.append(contentsOf: path)
        for (i, pair) in query.enumerated() {
            out.append(i == 0 ? UInt8(ascii: "?") : UInt8(ascii: "&"))
            out.append(contentsOf: pair.0)
            if !pair.1.isEmpty {
                out.append(UInt8(ascii: "="))
                out.append(contentsOf: pair.1)
            }
        }
    }
}
