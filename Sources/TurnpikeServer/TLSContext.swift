import CTurnpikeShim
import TurnpikeConfig

/// One HTTPS listener's certificates, built off the loops (at start and on reload) and
/// handed to every worker; the shim counts references, so connections that started on
/// an older context keep it until they close.
final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer

    private init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { tp_tls_ctx_release(pointer) }

    /// The listener's default certificate and every domain name's certificate (chosen by SNI).
    static func build(listener: Listener, domains: [DomainName]) throws(ServerError) -> TLSContext {
        var options = tp_tls_options()
        options.min_tls13 = listener.minimumTlsVersion == .tls13 ? 1 : 0
        options.refuse_unknown_names = listener.unknownServerName == .refuse ? 1 : 0
        options.alpn_h2 = listener.http2 ? 1 : 0
        var err = [CChar](repeating: 0, count: 512)
        guard let ctx = tp_tls_ctx_new(&options, &err, err.count) else {
            throw ServerError("listener \(listener.name): \(message(err))")
        }
        let context = TLSContext(pointer: ctx)
        if let cert = listener.certificate {
            if tp_tls_ctx_add(ctx, nil, cert.chainPath, cert.keyPath, nil, &err, err.count) != 0
                || (cert.ocspStaplePath.map { tp_tls_ctx_set_ocsp_staple(ctx, nil, $0, &err, err.count) } ?? 0) != 0
            {
                throw ServerError("listener \(listener.name): \(message(err))")
            }
        }
        for domain in domains {
            guard let cert = domain.certificate else { continue }
            if tp_tls_ctx_add(ctx, domain.name, cert.chainPath, cert.keyPath, domain.truststorePath, &err, err.count) != 0
                || (cert.ocspStaplePath.map { tp_tls_ctx_set_ocsp_staple(ctx, domain.name, $0, &err, err.count) } ?? 0) != 0
            {
                throw ServerError("domain \(domain.name): \(message(err))")
            }
        }
        return context
    }

    /// A context for every HTTPS listener, by listener index.
    static func buildAll(_ config: GatewayConfig) throws(ServerError) -> [Int: TLSContext] {
        var out: [Int: TLSContext] = [:]
        for (i, listener) in config.listeners.enumerated() where listener.protocolType == .https {
            out[i] = try build(listener: listener, domains: config.domainNames)
        }
        return out
    }
}

/// The NUL-terminated message the shim wrote into `buffer`.
private func message(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

/// TLS toward one upstream host: trust store, server name, client certificate.
final class UpstreamTLSClient: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ spec: UpstreamTLS, host: String) throws(ServerError) {
        var err = [CChar](repeating: 0, count: 512)
        guard let p = tp_tls_client_new(
            spec.caBundlePath, spec.serverName ?? host, spec.clientCertificate?.chainPath,
            spec.clientCertificate?.keyPath, &err, err.count)
        else { throw ServerError("upstream TLS for \(spec.serverName ?? host): \(message(err))") }
        pointer = p
    }

    deinit { tp_tls_client_release(pointer) }

    static func key(_ spec: UpstreamTLS, host: String) -> String {
        "\(spec.caBundlePath ?? "-")|\(spec.serverName ?? host)|\(spec.clientCertificate?.chainPath ?? "-")|\(spec.clientCertificate?.keyPath ?? "-")"
    }
}
