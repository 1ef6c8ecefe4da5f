/// A custom domain name and the api stages mapped under its base paths.
public struct DomainName: Sendable, Equatable {
    /// Lowercased; may start with "*." for a wildcard domain.
    public let name: String
    /// The api stages served under the domain's base paths.
    public let mappings: [ApiMapping]
    /// The certificate served for this name on HTTPS listeners (SNI); nil serves the domain on HTTP listeners only.
    public let certificate: TLSCertificate?
    /// Mutual TLS: the absolute path of the PEM CA bundle client certificates must chain to; nil means no client certificates.
    public let truststorePath: String?

    public init(name: String, mappings: [ApiMapping], certificate: TLSCertificate? = nil, truststorePath: String? = nil) {
        self.name = name
        self.mappings = mappings
        self.certificate = certificate
        self.truststorePath = truststorePath
    }
}

/// Serves one api stage under a base path ("" for the domain root) of a domain name.
public struct ApiMapping: Sendable, Equatable {
    /// The base path without slashes at either end, e.g. "v2" or "orders/v1"; "" for the root.
    public let key: String
    public let apiName: String
    public let stageName: String

    public init(key: String, apiName: String, stageName: String) {
        self.key = key
        self.apiName = apiName
        self.stageName = stageName
    }
}

/// A PEM certificate chain and its private key, checked to exist and be readable at load (not parsed).
public struct TLSCertificate: Sendable, Equatable {
    /// Absolute path of the PEM chain: the leaf certificate first, then its intermediates.
    public let chainPath: String
    /// Absolute path of the PEM private key of the leaf certificate.
    public let keyPath: String
    /// Extension: absolute path of a DER OCSP response stapled to handshakes that ask for status.
    public let ocspStaplePath: String?

    public init(chainPath: String, keyPath: String, ocspStaplePath: String? = nil) {
        self.chainPath = chainPath
        self.keyPath = keyPath
        self.ocspStaplePath = ocspStaplePath
    }

    /// The files this certificate is read from (watched for changes).
    public var files: [String] { [chainPath, keyPath] + (ocspStaplePath.map { [$0] } ?? []) }
}

/// The oldest TLS version a listener accepts (extension; AWS's `securityPolicy: TLS_1_2` is the default).
public enum TLSVersion: String, Sendable, Equatable, CaseIterable {
    /// TLS 1.2 and 1.3.
    case tls12 = "TLS_1_2"
    /// TLS 1.3 only.
    case tls13 = "TLS_1_3"
}

/// What an HTTPS listener does with a client whose SNI names no configured domain, or that sends no SNI (extension).
public enum UnknownServerNamePolicy: String, Sendable, Equatable, CaseIterable {
    /// Refuse the handshake (an `unrecognized_name` alert); clients without SNI get the listener's certificate if it has one.
    case refuse = "REFUSE"
    /// Complete the handshake with the listener's own certificate.
    case defaultCertificate = "DEFAULT"
}
