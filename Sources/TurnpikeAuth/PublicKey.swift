import CTurnpikeShim

/// One verification key from a JWKS, owning its OpenSSL key. Immutable, so every
/// worker thread may check signatures with it at once; freed when the last key set
/// holding it goes away.
final class PublicKey: @unchecked Sendable {
    private let handle: OpaquePointer
    let kind: tp_key_kind

    private init?(_ handle: OpaquePointer?) {
        guard let handle else { return nil }
        self.handle = handle
        self.kind = tp_pubkey_kind(handle)
    }

    deinit { tp_pubkey_free(handle) }

    static func rsa(n: [UInt8], e: [UInt8]) -> PublicKey? {
        PublicKey(tp_pubkey_new_rsa(n, n.count, e, e.count))
    }

    static func ec(kind: tp_key_kind, x: [UInt8], y: [UInt8]) -> PublicKey? {
        PublicKey(tp_pubkey_new_ec(kind, x, x.count, y, y.count))
    }

    static func ed25519(x: [UInt8]) -> PublicKey? {
        PublicKey(tp_pubkey_new_ed25519(x, x.count))
    }

    /// True only for a valid signature made with this key and this algorithm.
    func verify(_ algorithm: JWSAlgorithm, message: UnsafeRawBufferPointer, signature: [UInt8]) -> Bool {
        guard let base = message.baseAddress else { return false }
        return signature.withUnsafeBufferPointer { sig in
            tp_pubkey_verify(handle, algorithm.shimValue, base.assumingMemoryBound(to: UInt8.self),
                             message.count, sig.baseAddress ?? UnsafePointer(bitPattern: 1)!, sig.count) == 1
        }
    }
}
