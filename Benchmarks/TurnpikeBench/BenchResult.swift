import CTurnpikeBench
import Foundation
import Histogram

/// What a run measured, summed over the threads.
public struct BenchResult {
    public var responses: UInt64 = 0
    public var bytes: UInt64 = 0
    public var errors = [UInt64](repeating: 0, count: Int(TPB_ERR_KINDS.rawValue))
    public var status: [Int: UInt64] = [:]
    public var connects: UInt64 = 0
    public var backlogMax: UInt64 = 0
    var firstNs: UInt64 = .max
    var lastNs: UInt64 = 0
    var latency = Histogram<UInt64>(highestTrackableValue: LatencyRecorder.highest, numberOfSignificantValueDigits: .three)

    static let errorNames = ["connect", "tls", "read", "write", "timeout", "protocol"]

    mutating func add(_ s: tpb_stats) {
        responses += s.responses
        bytes += s.bytes
        withUnsafeBytes(of: s.errors) { raw in
            for (i, v) in raw.bindMemory(to: UInt64.self).enumerated() { errors[i] += v }
        }
        withUnsafeBytes(of: s.status) { raw in
            for (code, v) in raw.bindMemory(to: UInt64.self).enumerated() where v > 0 { status[code, default: 0] += v }
        }
        connects += s.connects
        backlogMax = max(backlogMax, s.backlog_max)
        firstNs = min(firstNs, s.first_ns)
        lastNs = max(lastNs, s.last_ns)
    }

    public var errorCount: UInt64 { errors.reduce(0, +) }
    public var seconds: Double { lastNs > firstNs ? Double(lastNs - firstNs) / 1e9 : 0 }
    public var requestsPerSecond: Double { seconds > 0 ? Double(responses) / seconds : 0 }
    public var bytesPerSecond: Double { seconds > 0 ? Double(bytes) / seconds : 0 }

    /// Latency at a percentile, in microseconds.
    func micros(_ percentile: Double) -> Double { Double(latency.valueAtPercentile(percentile)) / 1000 }
    var maxMicros: Double { Double(latency.max) / 1000 }
    var meanMicros: Double { latency.totalCount > 0 ? latency.mean / 1000 : 0 }

    static let percentiles: [(String, Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p99_9", 99.9)]

    /// The machine-readable report (documented in the README; stable field names).
    func json(_ o: BenchOptions, _ plan: BenchPlan) -> String {
        var latencyFields = Self.percentiles.map { "\"\($0.0)\": \(fmt(micros($0.1)))" }
        latencyFields.append("\"max\": \(fmt(maxMicros))")
        latencyFields.append("\"mean\": \(fmt(meanMicros))")
        let statusFields = status.keys.sorted().map { "\"\($0)\": \(status[$0]!)" }
        let errorFields = zip(Self.errorNames, errors).map { "\"\($0)\": \($1)" }
        let urls = plan.urlsText.map { "\"\(escape($0))\"" }.joined(separator: ", ")
        let fields = [
            "\"urls\": [\(urls)]",
            "\"protocol\": \"\(o.http2 ? "h2" : "http/1.1")\"",
            "\"tls\": \(plan.target.tls)",
            "\"mode\": \"\(o.rate == nil ? "closed" : "open")\"",
            "\"target_rate\": \(o.rate.map { fmt($0) } ?? "null")",
            "\"connections\": \(o.connections)",
            "\"threads\": \(BenchRun.shares(connections: o.connections, threads: o.threads, requests: o.requests, rate: o.rate).count)",
            "\"streams\": \(o.streams)",
            "\"pipeline\": \(o.pipeline)",
            "\"warmup_s\": \(fmt(Double(plan.warmupNs) / 1e9))",
            "\"duration_s\": \(fmt(seconds))",
            "\"requests\": \(responses + errorCount)",
            "\"responses\": \(responses)",
            "\"requests_per_s\": \(fmt(requestsPerSecond))",
            "\"bytes\": \(bytes)",
            "\"bytes_per_s\": \(fmt(bytesPerSecond))",
            "\"status\": {\(statusFields.joined(separator: ", "))}",
            "\"errors\": {\(errorFields.joined(separator: ", "))}",
            "\"errors_total\": \(errorCount)",
            "\"latency_us\": {\(latencyFields.joined(separator: ", "))}",
            "\"connects\": \(connects)",
            "\"backlog_max\": \(backlogMax)",
        ]
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// The report for people.
    func text(_ o: BenchOptions, _ plan: BenchPlan) -> String {
        let threads = BenchRun.shares(connections: o.connections, threads: o.threads, requests: o.requests, rate: o.rate).count
        var mode = o.rate.map { "open loop at \(grouped($0)) req/s" } ?? "closed loop"
        if o.http2 { mode += ", \(o.streams) stream(s) per connection" } else if o.pipeline > 1 { mode += ", pipeline \(o.pipeline)" }
        let proto = (o.http2 ? "HTTP/2" : "HTTP/1.1") + (plan.target.tls ? " over TLS" : "")
        var lines: [String] = []
        lines.append("\(plan.urlsText.count == 1 ? plan.urlsText[0] : "\(plan.urlsText.count) URLs on \(plan.target.authority)")")
        lines.append("  \(proto), \(o.connections) connection(s), \(threads) thread(s), \(mode)"
            + (plan.warmupNs > 0 ? ", \(fmt(Double(plan.warmupNs) / 1e9)) s warm-up (not counted)" : ""))
        lines.append("  requests   \(responses + errorCount) in \(fmt(seconds)) s: \(grouped(requestsPerSecond)) responses/s")
        lines.append("  transfer   \(bytesText(Double(bytes))) (\(bytesText(bytesPerSecond))/s)")
        let statusText = status.keys.sorted().map { "\($0): \(status[$0]!)" }.joined(separator: "  ")
        lines.append("  status     \(statusText.isEmpty ? "none" : statusText)")
        let errorText = zip(Self.errorNames, errors).filter { $1 > 0 }.map { "\($0) \($1)" }
        lines.append("  errors     \(errorText.isEmpty ? "none" : errorText.joined(separator: ", "))")
        if latency.totalCount > 0 {
            let p = Self.percentiles.map { "\($0.0.replacingOccurrences(of: "_", with: ".")) \(timeText(micros($0.1)))" }
            lines.append("  latency    " + p.joined(separator: "  ") + "  max \(timeText(maxMicros))  mean \(timeText(meanMicros))")
            lines.append("             " + (o.rate == nil ? "(from each request's send)" : "(from each request's intended send time)"))
        }
        if o.rate != nil && backlogMax > 0 { lines.append("  backlog    at most \(backlogMax) request(s) due but not yet sent") }
        return lines.joined(separator: "\n")
    }
}

private func fmt(_ v: Double) -> String { String(format: "%.3f", v) }

private func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
}

private func grouped(_ v: Double) -> String {
    if v >= 100 { return String(format: "%.0f", v) }
    return String(format: "%.1f", v)
}

private func bytesText(_ v: Double) -> String {
    if v >= 1e9 { return String(format: "%.2f GB", v / 1e9) }
    if v >= 1e6 { return String(format: "%.2f MB", v / 1e6) }
    if v >= 1e3 { return String(format: "%.2f kB", v / 1e3) }
    return String(format: "%.0f B", v)
}

private func timeText(_ micros: Double) -> String {
    if micros >= 1e6 { return String(format: "%.2f s", micros / 1e6) }
    if micros >= 1e3 { return String(format: "%.2f ms", micros / 1e3) }
    return String(format: "%.0f µs", micros)
}
