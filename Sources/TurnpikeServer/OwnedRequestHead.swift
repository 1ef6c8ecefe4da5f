import TurnpikeGateway

/// A request head copied out of the connection's read buffer, for a request that waits
/// (for its Lambda authorizer) while the connection's buffer moves on. The copy lives as
/// long as this object; `head` points into it.
final class OwnedRequestHead {
    private let bytes: UnsafeMutableRawBufferPointer
    private let fields: UnsafeMutableBufferPointer<HeaderField>
    private(set) var head: RequestHead

    init(_ request: RequestHead) {
        var total = request.method.count + request.path.count + request.query.count + request.host.count
            + request.clientIP.count + request.tlsServerName.count + request.clientCertSubject.count
        for f in request.headers { total += f.name.count + f.value.count }
        bytes = .allocate(byteCount: max(1, total), alignment: 1)
        fields = .allocate(capacity: max(1, request.headers.count))
        var offset = 0
        let bytes = self.bytes
        func copy(_ slice: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            let start = offset
            if !slice.isEmpty {
                UnsafeMutableRawBufferPointer(rebasing: bytes[start..<start + slice.count]).copyMemory(from: slice)
            }
            offset += slice.count
            return UnsafeRawBufferPointer(rebasing: bytes[start..<start + slice.count])
        }
        for (i, f) in request.headers.enumerated() {
            (fields.baseAddress! + i).initialize(to: HeaderField(name: copy(f.name), value: copy(f.value)))
        }
        var h = request
        h.method = copy(request.method)
        h.path = copy(request.path)
        h.query = copy(request.query)
        h.host = copy(request.host)
        h.clientIP = copy(request.clientIP)
        h.tlsServerName = copy(request.tlsServerName)
        h.clientCertSubject = copy(request.clientCertSubject)
        h.headers = UnsafeBufferPointer(rebasing: fields[0..<request.headers.count])
        head = h
    }

    deinit {
        bytes.deallocate()
        fields.deallocate()
    }
}
