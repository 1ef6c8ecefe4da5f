/// One header field as bytes borrowed from the connection's read buffer.
public struct HeaderField {
    public var name: UnsafeRawBufferPointer
    public var value: UnsafeRawBufferPointer

    public init(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        self.name = name
        self.value = value
    }
}

/// A parsed request head, borrowed: every slice points into memory the transport owns
/// and is valid only while the request is being decided.
public struct RequestHead {
    public var method: UnsafeRawBufferPointer
    public var path: UnsafeRawBufferPointer
    public var query: UnsafeRawBufferPointer
    public var hasQuery: Bool
    public var host: UnsafeRawBufferPointer
    public var headers: UnsafeBufferPointer<HeaderField>
    /// -1 when absent.
    public var contentLength: Int64
    public var chunked: Bool
    public var httpVersionMinor: UInt8
    /// The request is an HTTP/2 stream (ALPN h2 or h2c prior knowledge).
    public var isHTTP2 = false
    public var clientIP: UnsafeRawBufferPointer
    public var localPort: UInt16
    public var listenerIndex: Int
    /// The connection is TLS.
    public var isTLS: Bool = false
    /// The server name the TLS client asked for (SNI); empty when none.
    public var tlsServerName: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The subject of a verified client certificate (mutual TLS), RFC 2253; empty when none.
    public var clientCertSubject: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)

    public init(
        method: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer, query: UnsafeRawBufferPointer,
        hasQuery: Bool, host: UnsafeRawBufferPointer, headers: UnsafeBufferPointer<HeaderField>,
        contentLength: Int64, chunked: Bool, httpVersionMinor: UInt8,
        clientIP: UnsafeRawBufferPointer, localPort: UInt16, listenerIndex: Int
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.hasQuery = hasQuery
        self.host = host
        self.headers = headers
        self.contentLength = contentLength
        self.chunked = chunked
        self.httpVersionMinor = httpVersionMinor
        self.clientIP = clientIP
        self.localPort = localPort
        self.listenerIndex = listenerIndex
    }

    /// The first header named `lowercasedName` (ASCII case-insensitive).
    public func header(_ lowercasedName: [UInt8]) -> UnsafeRawBufferPointer? {
        for field in headers where ASCII.equalsLowercased(field.name, lowercasedName) {
            return field.value
        }
        return nil
    }

    /// "HTTP/1.1" or "HTTP/1.0", as `$context.protocol` shows it.
    public var protocolName: String { isHTTP2 ? "HTTP/2.0" : httpVersionMinor == 0 ? "HTTP/1.0" : "HTTP/1.1" }
}

extension RequestHead {
    /// A head with nothing in it: what response mappings see of the request once the
    /// request's bytes are gone (they may use `$context` and `$stageVariables`).
    public static var empty: RequestHead {
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        return RequestHead(
            method: none, path: none, query: none, hasQuery: false, host: none,
            headers: UnsafeBufferPointer(start: nil, count: 0), contentLength: -1, chunked: false,
            httpVersionMinor: 1, clientIP: none, localPort: 0, listenerIndex: 0)
    }
}
