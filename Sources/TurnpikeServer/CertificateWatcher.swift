import Foundation
import TurnpikeConfig

/// Reloads the configuration when a certificate, key, OCSP staple or truststore file it
/// names changes on disk — how a certificate renewed by an ACME client or a secrets agent
/// reaches the listeners without a signal. The reload is the ordinary one: connections
/// keep the context they started with; a file caught half-written makes that reload
/// fail (logged) and the next change retries.
final class CertificateWatcher: @unchecked Sendable {
    /// What a file looked like: a rename over it changes the inode, a rewrite the mtime or size.
    struct Stamp: Equatable {
        var inode: UInt64
        var size: Int64
        var mtimeNs: Int64
    }

    /// Weak: the watcher must not outlive (or keep alive) a server that has stopped.
    private weak var server: GatewayServer?
    private let intervalMs: UInt32

    init(server: GatewayServer, intervalMs: UInt32 = 1000) {
        self.server = server
        self.intervalMs = intervalMs
    }

    /// Every TLS file a configuration reads.
    static func files(of config: GatewayConfig) -> [String] {
        var out: [String] = []
        for l in config.listeners { out += l.certificate?.files ?? [] }
        for d in config.domainNames {
            out += d.certificate?.files ?? []
            if let t = d.truststorePath { out.append(t) }
        }
        return Array(Set(out)).sorted()
    }

    static func stamps(_ files: [String]) -> [String: Stamp?] {
        var out: [String: Stamp?] = [:]
        for f in files {
            var st = stat()
            if stat(f, &st) == 0 {
                out[f] = Stamp(inode: UInt64(st.st_ino), size: Int64(st.st_size),
                               mtimeNs: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
            } else {
                out[f] = .some(nil)
            }
        }
        return out
    }

    /// Starts the polling thread (it runs for the life of the process).
    func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { arg in
            Unmanaged<CertificateWatcher>.fromOpaque(arg!).takeRetainedValue().run()
            return nil
        }, box)
        pthread_detach(thread)
    }

    private func run() {
        guard let first = server else { return }
        var seen = Self.stamps(Self.files(of: first.snapshot.config))
        while true {
            usleep(intervalMs * 1000)
            guard let server else { return }
            let files = Self.files(of: server.snapshot.config)
            if files.isEmpty { seen = [:]; continue }
            let now = Self.stamps(files)
            // Only files both lists know: a reload that names new files is not a change of them.
            let changed = files.filter { seen[$0] != nil && seen[$0]! != now[$0]! }
            seen = now
            guard !changed.isEmpty else { continue }
            let (status, body) = server.reload()
            server.log(status == 200
                ? "certificate files changed (\(changed.joined(separator: ", "))): reloaded"
                : "certificate files changed (\(changed.joined(separator: ", "))) but the reload was refused: \(body)")
            seen = Self.stamps(Self.files(of: server.snapshot.config))
        }
    }
}
