import CTurnpikeBench
import Foundation
import Histogram

#if canImport(Glibc)
import Glibc
#endif

/// One thread's latencies: an HDR histogram in nanoseconds (1 ns to 1 h, 3 significant
/// digits), written only by that thread's loop, merged after the run.
final class LatencyRecorder: @unchecked Sendable {
    static let highest: UInt64 = 3_600_000_000_000
    var histogram = Histogram<UInt64>(highestTrackableValue: highest, numberOfSignificantValueDigits: .three)
}

/// The record callback: no allocation, one histogram increment.
private let recordLatency: tpb_record_fn = { ctx, latency in
    let recorder = Unmanaged<LatencyRecorder>.fromOpaque(ctx!).takeUnretainedValue()
    _ = recorder.histogram.record(min(latency, LatencyRecorder.highest))
}

/// A worker pointer handed to its thread.
private struct WorkerHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Runs a plan: one tpb_worker per thread, a progress line while they run, then the merge.
struct BenchRun {
    let options: BenchOptions
    let plan: BenchPlan

    /// How the connections, the count and the rate are split over the threads.
    struct Share {
        var connections: UInt32
        var connectionBase: UInt32
        var count: UInt64
        var rate: Double
    }

    static func shares(connections: Int, threads: Int, requests: Int?, rate: Double?) -> [Share] {
        var threads = min(threads, connections)
        if let requests { threads = min(threads, requests) }
        var result: [Share] = []
        var base = 0
        var countLeft = UInt64(requests ?? 0)
        for i in 0..<threads {
            let conns = connections / threads + (i < connections % threads ? 1 : 0)
            var count: UInt64 = 0
            if let requests {
                count = i == threads - 1 ? countLeft : UInt64(requests) * UInt64(conns) / UInt64(connections)
                count = max(count, 1)
                countLeft -= min(count, countLeft)
            }
            let r = rate.map { $0 * Double(conns) / Double(connections) } ?? 0
            result.append(Share(connections: UInt32(conns), connectionBase: UInt32(base), count: count, rate: r))
            base += conns
        }
        return result
    }

    func run() throws -> BenchResult {
        signal(SIGPIPE, SIG_IGN)
        let shares = Self.shares(connections: options.connections, threads: options.threads,
                                 requests: options.requests, rate: options.rate)
        var cStrings: [UnsafeMutablePointer<CChar>] = []
        defer { cStrings.forEach { free($0) } }
        func c(_ s: String) -> UnsafeMutablePointer<CChar> {
            let p = strdup(s)!
            cStrings.append(p)
            return p
        }
        let headerPairs = plan.headers.map { tpb_header(name: c(options.http2 ? $0.0.lowercased() : $0.0), value: c($0.1)) }
        let headerBuffer = UnsafeMutableBufferPointer<tpb_header>.allocate(capacity: max(headerPairs.count, 1))
        defer { headerBuffer.deallocate() }
        _ = headerBuffer.initialize(from: headerPairs)
        let body = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(plan.body.count, 1))
        defer { body.deallocate() }
        _ = body.initialize(from: plan.body)
        let kinds = plan.kinds.map {
            tpb_request(method: c($0.method), path: c($0.path), headers: UnsafePointer(headerBuffer.baseAddress),
                        header_count: UInt32(headerPairs.count), body: plan.body.isEmpty ? nil : UnsafePointer(body.baseAddress),
                        body_len: UInt32(plan.body.count), weight: $0.weight)
        }
        let varyValues: [UnsafePointer<CChar>?] = plan.varyValues.map { UnsafePointer(c($0)) }
        let sni = options.sni ?? (plan.target.host == plan.target.ip ? nil : plan.target.host)

        let start = tpb_now_ns()
        var workers: [OpaquePointer] = []
        var recorders: [LatencyRecorder] = []
        defer { workers.forEach { tpb_worker_free($0) } }
        for (i, share) in shares.enumerated() {
            let recorder = LatencyRecorder()
            var err = [CChar](repeating: 0, count: 256)
            let worker: OpaquePointer? = kinds.withUnsafeBufferPointer { kindsPtr in
                varyValues.withUnsafeBufferPointer { varyPtr in
                    var cfg = tpb_config()
                    cfg.ip = UnsafePointer(c(plan.target.ip))
                    cfg.port = plan.target.port
                    cfg.authority = UnsafePointer(c(plan.target.authority))
                    cfg.tls = plan.target.tls ? 1 : 0
                    cfg.http2 = options.http2 ? 1 : 0
                    cfg.insecure = options.insecure ? 1 : 0
                    cfg.sni = sni.map { UnsafePointer(c($0)) }
                    cfg.ca_file = options.cacert.map { UnsafePointer(c($0)) }
                    cfg.connections = share.connections
                    cfg.connection_base = share.connectionBase
                    cfg.pipeline = UInt32(options.pipeline)
                    cfg.streams = UInt32(options.streams)
                    cfg.start_ns = start
                    cfg.warmup_ns = plan.warmupNs
                    cfg.duration_ns = options.requests == nil ? plan.durationNs : 0
                    cfg.count = share.count
                    cfg.rate = share.rate
                    cfg.timeout_ns = plan.timeoutNs
                    cfg.requests = kindsPtr.baseAddress
                    cfg.request_count = UInt32(kindsPtr.count)
                    cfg.vary_name = options.varyHeader.map { UnsafePointer(c(options.http2 ? $0.lowercased() : $0)) }
                    cfg.vary_values = varyPtr.baseAddress
                    cfg.vary_count = UInt32(varyPtr.count)
                    cfg.seed = 0x9E37_79B9_7F4A_7C15 &* UInt64(i + 1)
                    return tpb_worker_create(&cfg, recordLatency, Unmanaged.passUnretained(recorder).toOpaque(), &err, err.count)
                }
            }
            guard let worker else { throw BenchError(String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
            workers.append(worker)
            recorders.append(recorder)
        }

        let group = DispatchGroup()
        for worker in workers {
            let handle = WorkerHandle(pointer: worker)
            group.enter()
            let thread = Thread {
                _ = tpb_worker_run(handle.pointer)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        BenchSignals.install(workers)
        defer { BenchSignals.clear() }
        let progress = ProgressLine(enabled: !options.json && !options.noProgress && isatty(STDERR_FILENO) == 1,
                                    start: start, warmupNs: plan.warmupNs)
        while group.wait(timeout: .now() + .milliseconds(500)) == .timedOut {
            progress.update(workers.reduce(0) { $0 + tpb_worker_progress($1) })
        }
        progress.finish()

        var result = BenchResult()
        for (worker, recorder) in zip(workers, recorders) {
            var stats = tpb_stats()
            tpb_worker_stats(worker, &stats)
            result.add(stats)
            result.latency.add(recorder.histogram)
        }
        return result
    }
}

/// SIGINT/SIGTERM stop the workers (uv_async_send is async-signal-safe), so an interrupted
/// run still reports what it measured.
enum BenchSignals {
    nonisolated(unsafe) static var workers: [OpaquePointer] = []

    static func install(_ list: [OpaquePointer]) {
        workers = list
        signal(SIGINT) { _ in BenchSignals.workers.forEach { tpb_worker_stop($0) } }
        signal(SIGTERM) { _ in BenchSignals.workers.forEach { tpb_worker_stop($0) } }
    }

    static func clear() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        workers = []
    }
}

/// The live line on a terminal: elapsed time, requests so far, the last interval's rate.
final class ProgressLine {
    let enabled: Bool
    let start: UInt64
    let warmupNs: UInt64
    var lastCount: UInt64 = 0
    var lastTime: UInt64

    init(enabled: Bool, start: UInt64, warmupNs: UInt64) {
        self.enabled = enabled
        self.start = start
        self.warmupNs = warmupNs
        lastTime = start
    }

    func update(_ count: UInt64) {
        guard enabled else { return }
        let now = tpb_now_ns()
        let rate = Double(count - lastCount) / (Double(now - lastTime) / 1e9)
        lastCount = count
        lastTime = now
        let elapsed = Double(now - start) / 1e9
        let phase = now < start + warmupNs ? " (warm-up)" : ""
        let line = "\r  " + String(format: "%6.1fs", elapsed) + phase + String(format: "  %12llu done  %10.0f req/s   ", count, rate)
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!)
    }
}
