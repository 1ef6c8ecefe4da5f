/// A request id shaped like API Gateway's (`JXkbXhJZIAMEVhQ=`: 16 base64 characters),
/// unique per process: seconds since start, worker index and a per-worker counter.
public struct RequestId: Sendable, Equatable {
    /// The 16 ASCII characters.
    public var bytes: (UInt64, UInt64)

    public init(bytes: (UInt64, UInt64)) {
        self.bytes = bytes
    }

    public static func == (a: RequestId, b: RequestId) -> Bool { a.bytes == b.bytes }

    public func append(to out: inout [UInt8]) {
        withUnsafeBytes(of: bytes) { out.append(contentsOf: $0) }
    }

    public var string: String {
        withUnsafeBytes(of: bytes) { String(decoding: $0, as: UTF8.self) }
    }
}

/// Makes request ids for one worker; no locks, no allocation.
public struct RequestIdGenerator: Sendable {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private var counter: UInt64
    private let salt: UInt64
    private let worker: UInt8

    public init(worker: Int, salt: UInt64) {
        self.worker = UInt8(truncatingIfNeeded: worker)
        self.salt = salt
        counter = 0
    }

    /// 11 bytes — 4 of time, 1 of worker, 6 of counter — in base64 with its one '='.
    public mutating func next(epochSeconds: UInt64) -> RequestId {
        counter &+= 1
        let mixed = (counter &+ salt) & 0xFFFF_FFFF_FFFF
        var raw: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &raw) { r in
            r[0] = UInt8(truncatingIfNeeded: epochSeconds >> 24)
            r[1] = UInt8(truncatingIfNeeded: epochSeconds >> 16)
            r[2] = UInt8(truncatingIfNeeded: epochSeconds >> 8)
            r[3] = UInt8(truncatingIfNeeded: epochSeconds)
            r[4] = worker
            for i in 0..<6 { r[5 + i] = UInt8(truncatingIfNeeded: mixed >> (40 - 8 * UInt64(i))) }
        }
        var out: (UInt64, UInt64) = (0, 0)
        withUnsafeBytes(of: raw) { r in
            withUnsafeMutableBytes(of: &out) { o in
                var oi = 0
                var i = 0
                while i + 3 <= 9 {
                    let n = UInt32(r[i]) << 16 | UInt32(r[i + 1]) << 8 | UInt32(r[i + 2])
                    o[oi] = Self.alphabet[Int(n >> 18) & 63]
                    o[oi + 1] = Self.alphabet[Int(n >> 12) & 63]
                    o[oi + 2] = Self.alphabet[Int(n >> 6) & 63]
                    o[oi + 3] = Self.alphabet[Int(n) & 63]
                    oi += 4
                    i += 3
                }
                let n = UInt32(r[9]) << 16 | UInt32(r[10]) << 8
                o[12] = Self.alphabet[Int(n >> 18) & 63]
                o[13] = Self.alphabet[Int(n >> 12) & 63]
                o[14] = Self.alphabet[Int(n >> 6) & 63]
                o[15] = UInt8(ascii: "=")
            }
        }
        return RequestId(bytes: out)
    }
}
