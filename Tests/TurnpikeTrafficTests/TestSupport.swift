import Foundation
import XCTest
@testable import TurnpikeTraffic

let nsPerSecond: UInt64 = 1_000_000_000
let nsPerMillisecond: UInt64 = 1_000_000

/// Seconds since the epoch of a UTC date and time, for quota tests.
func epoch(_ year: Int64, _ month: Int64, _ day: Int64, _ hour: Int64 = 0, _ minute: Int64 = 0, _ second: Int64 = 0) -> Int64 {
    CalendarDay(year: year, month: month, day: day)!.epochSeconds + hour * 3600 + minute * 60 + second
}

/// Collects per-thread results without the test target depending on Atomics.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int] = []

    func add(_ value: Int) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }

    var total: Int {
        lock.lock()
        defer { lock.unlock() }
        return values.reduce(0, +)
    }

    var all: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}

/// Runs `body(threadIndex)` on `count` real threads at once and waits for all of them.
func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchSemaphore(value: 0)
    let start = DispatchSemaphore(value: 0)
    for index in 0 ..< count {
        let thread = Thread {
            start.wait()
            body(index)
            done.signal()
        }
        thread.start()
    }
    for _ in 0 ..< count { start.signal() }
    for _ in 0 ..< count { done.wait() }
}

/// A fresh SQLite path under the temporary directory; removed (with its WAL files) by the returned cleanup.
func temporaryDatabasePath() -> String {
    let directory = NSTemporaryDirectory()
    return (directory as NSString).appendingPathComponent("turnpike-quota-\(UUID().uuidString).sqlite")
}

func removeDatabase(at path: String) {
    for suffix in ["", "-wal", "-shm"] {
        try? FileManager.default.removeItem(atPath: path + suffix)
    }
}

extension ClientBuckets {
    func admit(_ address: [UInt8], nowNs: UInt64) -> ThrottleVerdict {
        address.withUnsafeBytes { admit(key: $0, nowNs: nowNs) }
    }

    func refund(_ address: [UInt8], nowNs: UInt64) {
        address.withUnsafeBytes { refund(key: $0, nowNs: nowNs) }
    }
}

extension ApiKeyRegistry {
    func lookup(_ value: String) -> ApiKeyRecord? {
        Array(value.utf8).withUnsafeBytes { lookup($0) }
    }
}

/// Admits at `nowNs` until refused; returns how many were admitted (capped to catch runaway buckets).
func drain(_ admit: (UInt64) -> ThrottleVerdict, nowNs: UInt64, cap: Int = 1_000_000) -> Int {
    var admitted = 0
    while admitted < cap, admit(nowNs) == .admitted { admitted += 1 }
    return admitted
}
