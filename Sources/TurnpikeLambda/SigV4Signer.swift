import CTurnpikeShim

/// AWS credentials for signing requests to a remote Lambda Invoke API.
public struct AWSCredentials: Sendable, Equatable {
    public let accessKeyId: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// AWS Signature Version 4 (the "Authorization header" form): the canonical request,
/// the string to sign, the derived signing key and the header.
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "lambda") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The `Authorization` value for a request. `headers` are every header to sign (names
    /// in any case; `host` and `x-amz-date` among them), `amzDate` is `YYYYMMDDTHHMMSSZ`,
    /// `path` is already URI-encoded, `query` is the canonical query string.
    public func authorization(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)],
        payloadHash: String, amzDate: String
    ) -> String {
        let sorted = headers.map { ($0.name.lowercased(), Self.trimmed($0.value)) }.sorted { $0.0 < $1.0 }
        let signedHeaders = sorted.map(\.0).joined(separator: ";")
        let canonicalHeaders = sorted.map { "\($0.0):\($0.1)\n" }.joined()
        let canonicalRequest = [method, path, query, canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        let date = String(amzDate.prefix(8))
        let scope = "\(date)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(Self.sha256(Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = Self.hmac(Array("AWS4\(credentials.secretAccessKey)".utf8), date)
        key = Self.hmac(key, region)
        key = Self.hmac(key, service)
        key = Self.hmac(key, "aws4_request")
        let signature = Self.hex(Self.hmac(key, stringToSign))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBufferPointer { d in out.withUnsafeMutableBufferPointer { tp_sha256(d.baseAddress, d.count, $0.baseAddress) } }
        return out
    }

    static func hmac(_ key: [UInt8], _ text: String) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let data = Array(text.utf8)
        key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { tp_hmac_sha256(k.baseAddress, k.count, d.baseAddress, d.count, $0.baseAddress) }
            }
        }
        return out
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Leading and trailing spaces removed, inner runs of spaces folded to one.
    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}
