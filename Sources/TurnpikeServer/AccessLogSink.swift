import Synchronization
import TurnpikeConfig

#if canImport(Glibc)
import Glibc
#endif

/// Access log lines leave the request path through this sink: workers append to a
/// buffer under a short lock; a writer thread flushes it to the destination every
/// 100 ms, so no worker ever waits on disk or a pipe.
final class AccessLogSink: Sendable {
    private let fd: Int32
    private let pending = Mutex<[UInt8]>([])
    private let running = Mutex<Bool>(true)

    init(settings: AccessLogSettings) throws(ServerError) {
        switch settings.destination {
        case .stdout: fd = 1
        case .stderr: fd = 2
        case .file(let path):
            let f = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if f < 0 { throw ServerError("access log \(path): \(String(cString: strerror(errno)))") }
            fd = f
        }
        let sink = self
        var thread = pthread_t()
        let box = Unmanaged.passRetained(SinkBox(sink)).toOpaque()
        pthread_create(&thread, nil, { arg in
            let sink = Unmanaged<SinkBox>.fromOpaque(arg!).takeRetainedValue().sink
            sink.writerLoop()
            return nil
        }, box)
        pthread_detach(thread)
        _ = sink
    }

    func write(_ line: String) {
        pending.withLock { buffer in
            buffer.append(contentsOf: line.utf8)
            buffer.append(10)
        }
    }

    /// Writes what is pending now (used at shutdown).
    func flush() {
        let chunk = pending.withLock { b -> [UInt8] in
            let all = b
            b.removeAll(keepingCapacity: true)
            return all
        }
        var offset = 0
        while offset < chunk.count {
            let n = chunk.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, chunk.count - offset) }
            if n <= 0 { break }
            offset += n
        }
    }

    private func writerLoop() {
        while running.withLock({ $0 }) {
            usleep(100_000)
            flush()
        }
    }
}

private final class SinkBox {
    let sink: AccessLogSink
    init(_ sink: AccessLogSink) { self.sink = sink }
}
