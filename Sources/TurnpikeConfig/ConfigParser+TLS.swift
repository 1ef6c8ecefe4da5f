import Foundation
import Yams

/// TLS termination: listener certificates and policies, domain certificates and mutual TLS truststores.
extension ConfigParser {
    /// The keys of a listener that only an HTTPS listener may carry.
    static let httpsListenerKeys = ["certificate", "unknownServerName", "minimumTlsVersion"]

    /// The TLS fields of one listener; `domainCertificates` says whether any domain name declares a certificate.
    func listenerTLS(
        _ fields: ObjectReader, protocolType: ListenerProtocol, admin: Bool, domainCertificates: Bool
    ) -> (certificate: TLSCertificate?, unknownServerName: UnknownServerNamePolicy, minimumTlsVersion: TLSVersion) {
        guard protocolType == .https else {
            for key in Self.httpsListenerKeys {
                if let node = fields.node(key) {
                    log.add(fields.path.key(key), at: fields.mark(of: key) ?? node.mark,
                            "\"\(key)\" applies to HTTPS listeners only (add protocol: HTTPS)")
                }
            }
            return (nil, .refuse, .tls12)
        }
        if admin, let node = fields.node("protocol") {
            log.add(fields.path.key("protocol"), at: node, "protocol \"HTTPS\" on an admin listener is not supported yet")
        }
        let certificate = tlsCertificate(fields, staple: true)
        let unknownServerName: UnknownServerNamePolicy = fields.choice("unknownServerName", default: .refuse)
        if unknownServerName == .defaultCertificate, fields.node("certificate") == nil,
           let node = fields.node("unknownServerName") {
            log.add(fields.path.key("unknownServerName"), at: node,
                    "unknownServerName \"DEFAULT\" serves the listener's own certificate; add certificate: { chain: PATH, key: PATH } to the listener")
        }
        let minimumTlsVersion = tlsVersion(fields, "minimumTlsVersion", allowed: TLSVersion.allCases) ?? .tls12
        if !admin, fields.node("certificate") == nil, !domainCertificates, let node = fields.node("protocol") {
            log.add(fields.path.key("protocol"), at: node,
                    "an HTTPS listener needs a certificate: give the listener one (certificate: { chain: PATH, key: PATH }) or give a domain name one")
        }
        return (certificate, unknownServerName, minimumTlsVersion)
    }

    /// A domain name's `certificate`, `securityPolicy` and `mutualTlsAuthentication`.
    func domainTLS(_ fields: ObjectReader) -> (certificate: TLSCertificate?, truststorePath: String?) {
        let certificate = tlsCertificate(fields, staple: true)
        _ = tlsVersion(fields, "securityPolicy", allowed: [.tls12])
        var truststorePath: String?
        if let mtls = fields.object(
            "mutualTlsAuthentication", keys: ["truststoreUri", "truststore", "truststoreVersion"]
        ) {
            truststorePath = truststore(mtls)
            if fields.node("certificate") == nil {
                log.add(mtls.path, at: fields.mark(of: "mutualTlsAuthentication"),
                        "mutual TLS needs the domain's own certificate; add certificate: { chain: PATH, key: PATH }")
            }
        }
        return (certificate, truststorePath)
    }

    /// `certificate: { chain: PATH, key: PATH }` (or another `key`) of `parent`; nil when absent or invalid.
    func tlsCertificate(_ parent: ObjectReader, key: String = "certificate", staple: Bool = false) -> TLSCertificate? {
        guard let fields = parent.object(key, keys: ["chain", "key"] + (staple ? ["ocspStaple"] : [])) else { return nil }
        let staplePath = fields.string("ocspStaple").flatMap {
            readableFile($0, fields.path.key("ocspStaple"), fields.node("ocspStaple"))
        }
        let chain = fields.requiredString("chain").flatMap { readableFile($0, fields.path.key("chain"), fields.node("chain")) }
        let key = fields.requiredString("key").flatMap { readableFile($0, fields.path.key("key"), fields.node("key")) }
        guard let chain, let key else { return nil }
        return TLSCertificate(chainPath: chain, keyPath: key, ocspStaplePath: staplePath)
    }

    /// The CA bundle of `mutualTlsAuthentication`, written `truststoreUri` (AWS) or `truststore`.
    private func truststore(_ mtls: ObjectReader) -> String? {
        if let node = mtls.node("truststoreVersion") {
            log.add(mtls.path.key("truststoreVersion"), at: mtls.mark(of: "truststoreVersion") ?? node.mark,
                    "truststoreVersion names an S3 object version; Turnpike reads a local file (remove it)")
        }
        let uri = mtls.node("truststoreUri"), alias = mtls.node("truststore")
        if uri != nil, let alias {
            log.add(mtls.path.key("truststore"), at: mtls.mark(of: "truststore") ?? alias.mark,
                    "give either truststoreUri or truststore (the same setting), not both")
            return nil
        }
        let key = alias != nil ? "truststore" : "truststoreUri"
        guard let text = mtls.requiredString(key), let node = mtls.node(key) else { return nil }
        if !text.hasPrefix("file://"), let colon = text.range(of: "://") {
            let scheme = text[..<colon.lowerBound]
            log.add(mtls.path.key(key), at: node,
                    "a truststore is a local PEM file (a path or file://PATH); \(scheme):// is not supported, got \"\(text)\"")
            return nil
        }
        return readableFile(text, mtls.path.key(key), node)
    }

    /// A TLS version word; TLS_1_0 and TLS_1_1 are refused (Turnpike's minimum is TLS 1.2).
    private func tlsVersion(_ fields: ObjectReader, _ key: String, allowed: [TLSVersion]) -> TLSVersion? {
        guard let node = fields.node(key), let text = log.string(node, fields.path.key(key)) else { return nil }
        if let version = TLSVersion(rawValue: text), allowed.contains(version) { return version }
        if text == "TLS_1_0" || text == "TLS_1_1" {
            log.add(fields.path.key(key), at: node,
                    "\(key) \"\(text)\" is not accepted: Turnpike's minimum is TLS 1.2 (use \"TLS_1_2\")")
        } else {
            let expected = allowed.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            let hint = allowed.contains(.tls13) ? "" : "; minimumTlsVersion: TLS_1_3 on a listener requires TLS 1.3"
            log.add(fields.path.key(key), at: node, "unknown \(key) \"\(text)\" (expected \(expected)\(hint))")
        }
        return nil
    }

    /// A local file (a `file://` prefix is allowed) made absolute against the config file's folder,
    /// which must exist and be readable now; nil (with an issue naming the path) otherwise.
    func readableFile(_ text: String, _ path: ConfigPath, _ node: Node?) -> String? {
        let plain = text.hasPrefix("file://") ? String(text.dropFirst("file://".count)) : text
        guard !plain.isEmpty, !plain.hasSuffix("/") else {
            log.add(path, at: node?.mark, "expected a file path, got \"\(text)\"")
            return nil
        }
        var resolved = resolve(plain)
        if !resolved.hasPrefix("/") {
            resolved = FileManager.default.currentDirectoryPath + "/" + resolved
        }
        resolved = URL(fileURLWithPath: resolved).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) {
            log.add(path, at: node?.mark, "cannot read \"\(resolved)\": no such file")
            return nil
        }
        if isDirectory.boolValue {
            log.add(path, at: node?.mark, "cannot read \"\(resolved)\": it is a folder, not a file")
            return nil
        }
        if !FileManager.default.isReadableFile(atPath: resolved) {
            log.add(path, at: node?.mark, "cannot read \"\(resolved)\": permission denied")
            return nil
        }
        return resolved
    }
}
