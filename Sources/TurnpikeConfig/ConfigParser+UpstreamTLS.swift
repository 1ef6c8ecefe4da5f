import Yams

/// TLS towards upstreams: a target group's `protocol` and `tls` (both extensions).
extension ConfigParser {
    /// The keys of `tls` on an HTTPS target group.
    static let upstreamTLSKeys = ["caBundle", "serverName", "clientCertificate"]

    /// The `tls` block of a target group; nil when absent, invalid, or on an HTTP group (reported).
    func upstreamTLS(_ group: ObjectReader, isHTTPS: Bool) -> UpstreamTLS? {
        guard isHTTPS else {
            // An unknown protocol word is reported already; "tls" then says nothing more.
            let protocolIsKnown = group.node("protocol").map { $0.string.flatMap(ListenerProtocol.init(rawValue:)) != nil } ?? true
            if protocolIsKnown, let node = group.node("tls") {
                log.add(group.path.key("tls"), at: group.mark(of: "tls") ?? node.mark,
                        "\"tls\" applies to HTTPS target groups only (add protocol: HTTPS)")
            }
            return nil
        }
        guard let fields = group.object("tls", keys: Self.upstreamTLSKeys) else { return nil }
        return UpstreamTLS(
            caBundlePath: caBundle(fields),
            serverName: serverName(fields),
            clientCertificate: tlsCertificate(fields, key: "clientCertificate"))
    }

    /// `caBundle`: a local PEM file (a path or file://PATH) that must exist now.
    private func caBundle(_ tls: ObjectReader) -> String? {
        guard let node = tls.node("caBundle"), let text = log.string(node, tls.path.key("caBundle")) else { return nil }
        if !text.hasPrefix("file://"), let colon = text.range(of: "://") {
            let scheme = text[..<colon.lowerBound]
            log.add(tls.path.key("caBundle"), at: node,
                    "a CA bundle is a local PEM file (a path or file://PATH); \(scheme):// is not supported, got \"\(text)\"")
            return nil
        }
        return readableFile(text, tls.path.key("caBundle"), node)
    }

    /// `serverName`: a DNS name without a wildcard, lowercased.
    private func serverName(_ tls: ObjectReader) -> String? {
        guard let node = tls.node("serverName"), let text = log.string(node, tls.path.key("serverName")) else { return nil }
        let path = tls.path.key("serverName")
        if AddressSyntax.numericHost(text) != nil, text != "localhost" {
            log.add(path, at: node,
                    "serverName is a DNS name (SNI carries no IP addresses), got \"\(text)\"; leave it out to verify each endpoint's IP")
            return nil
        }
        guard !text.hasPrefix("*."), AddressSyntax.isDomainName(text) else {
            log.add(path, at: node, "serverName must be a DNS name such as api.internal.example (no wildcard), got \"\(text)\"")
            return nil
        }
        return text.lowercased()
    }
}
