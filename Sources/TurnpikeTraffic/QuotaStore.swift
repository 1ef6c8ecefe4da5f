import CSQLite

/// Why the quota store could not open, read or write its SQLite file.
public enum QuotaStoreError: Error, Equatable, Sendable {
    case sqlite(operation: String, code: Int32, message: String)
    case closed

    public var message: String {
        switch self {
        case let .sqlite(operation, code, message): return "quota store: \(operation) failed (SQLite \(code)): \(message)"
        case .closed: return "quota store: already closed"
        }
    }
}

/// Durable request counts for usage plans: one SQLite file of daily rows (plan, key, UTC day, count), written off the request path.
///
/// - Counters (`QuotaCounter`) are made here, one per (plan, key, quota settings), and kept for the
///   store's lifetime, so a configuration reload gets back the same counter and loses no counts.
/// - A background thread writes what the counters metered every `flushIntervalSeconds` (default 1 s),
///   all rows in one transaction; `flush()` does the same at once (at shutdown, before a usage query).
///   A failed write keeps its counts in memory and is retried by the next flush.
/// - A new counter starts from the sum of its rows in the current quota period, so a restart does not
///   reset a monthly quota. Requests not yet flushed when the process dies are the only ones lost
///   (at most one flush interval's worth).
/// - The file runs in WAL mode with `synchronous=NORMAL`: a committed flush survives the process
///   crashing; only a power loss can take back the last few.
public final class QuotaStore: @unchecked Sendable {
    public let path: String
    private let core: Core
    private let flusher: PeriodicThread

    public init(path: String, flushIntervalSeconds: Double = 1) throws(QuotaStoreError) {
        self.path = path
        let core = try Core(path: path)
        self.core = core
        flusher = PeriodicThread(intervalSeconds: flushIntervalSeconds) { core.flushFromBackground() }
    }

    deinit {
        close()
    }

    /// The counter for `keyId` under `planId`: the existing one when the same plan, key and quota were asked for before, else a new one loaded from the file.
    public func counter(planId: String, keyId: String, quota: QuotaPeriod?, nowEpochSeconds: Int64) throws(QuotaStoreError) -> QuotaCounter {
        try core.counter(planId: planId, keyId: keyId, quota: quota, nowEpochSeconds: nowEpochSeconds)
    }

    /// Writes every count metered so far, in one transaction.
    public func flush() throws(QuotaStoreError) {
        try core.flush()
    }

    /// Requests per UTC day from `first` through `last` (both included) for one key under one plan, unflushed counts included.
    public func dailyCounts(planId: String, keyId: String, from first: CalendarDay, through last: CalendarDay) throws(QuotaStoreError) -> [Int] {
        try core.dailyCounts(planId: planId, keyId: keyId, from: first, through: last)
    }

    /// The error of the last background flush that failed, nil once one succeeds (for health and admin output).
    public var lastFlushError: QuotaStoreError? {
        core.lastFlushError
    }

    /// Stops the flusher, writes what is left and closes the file; later calls throw `.closed`. Safe to call more than once.
    public func close() {
        flusher.stop()
        core.close()
    }
}

extension QuotaStore {
    /// Everything behind the lock: the connection, its statements, the counters and counts not yet written.
    /// The flusher thread holds this and not the `QuotaStore`, so dropping the store stops the thread.
    fileprivate final class Core: @unchecked Sendable {
        private struct RowKey: Hashable {
            let planId: String
            let keyId: String
            let day: Int64
        }

        private struct CounterKey: Hashable {
            let planId: String
            let keyId: String
            let quota: QuotaPeriod?

            static func == (lhs: CounterKey, rhs: CounterKey) -> Bool {
                lhs.planId == rhs.planId && lhs.keyId == rhs.keyId && lhs.quota == rhs.quota
            }

            func hash(into hasher: inout Hasher) {
                hasher.combine(planId)
                hasher.combine(keyId)
                hasher.combine(quota?.limit)
                hasher.combine(quota?.period.rawValue)
                hasher.combine(quota?.offset)
            }
        }

        private let mutex = PThreadMutex()
        private var db: OpaquePointer?
        private var upsert: OpaquePointer?
        private var selectRange: OpaquePointer?
        private var counters: [CounterKey: QuotaCounter] = [:]
        /// Drained from counters but not yet committed.
        private var pending: [RowKey: Int] = [:]
        private var failure: QuotaStoreError?

        init(path: String) throws(QuotaStoreError) {
            var handle: OpaquePointer?
            let code = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
            guard code == SQLITE_OK, let handle else {
                let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
                sqlite3_close_v2(handle)
                throw .sqlite(operation: "open \(path)", code: code, message: message)
            }
            db = handle
            do throws(QuotaStoreError) {
                try execute("PRAGMA journal_mode=WAL")
                try execute("PRAGMA synchronous=NORMAL")
                try execute("""
                    CREATE TABLE IF NOT EXISTS usage_daily (
                        plan_id TEXT NOT NULL,
                        key_id TEXT NOT NULL,
                        day TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (plan_id, key_id, day)
                    ) WITHOUT ROWID
                    """)
                upsert = try prepare("""
                    INSERT INTO usage_daily (plan_id, key_id, day, count) VALUES (?1, ?2, ?3, ?4)
                    ON CONFLICT (plan_id, key_id, day) DO UPDATE SET count = count + excluded.count
                    """)
                selectRange = try prepare("""
                    SELECT day, count FROM usage_daily WHERE plan_id = ?1 AND key_id = ?2 AND day >= ?3 AND day <= ?4
                    """)
            } catch {
                closeLocked()
                throw error
            }
        }

        var lastFlushError: QuotaStoreError? {
            mutex.withLock { failure }
        }

        func counter(planId: String, keyId: String, quota: QuotaPeriod?, nowEpochSeconds: Int64) throws(QuotaStoreError) -> QuotaCounter {
            try locked { () throws(QuotaStoreError) -> QuotaCounter in
                let key = CounterKey(planId: planId, keyId: keyId, quota: quota)
                if let existing = counters[key] { return existing }
                guard db != nil else { throw .closed }
                var used = 0
                if let quota {
                    // Counts another counter for this key (older settings) metered are in the rows once flushed.
                    drainLocked()
                    let start = quota.startDay(containing: Civil.floorDiv(nowEpochSeconds, 86_400))
                    let end = quota.endDay(afterStartDay: start)
                    used = try dailyCountsLocked(planId: planId, keyId: keyId, from: start, through: end - 1)
                        .reduce(0, +)
                }
                let counter = QuotaCounter(planId: planId, keyId: keyId, quota: quota,
                                           usedInCurrentPeriod: used, nowEpochSeconds: nowEpochSeconds)
                counters[key] = counter
                return counter
            }
        }

        func flush() throws(QuotaStoreError) {
            try locked { () throws(QuotaStoreError) in
                guard db != nil else { throw .closed }
                try flushLocked()
            }
        }

        func flushFromBackground() {
            mutex.withLock {
                guard db != nil else { return }
                do {
                    try flushLocked()
                    failure = nil
                } catch let error as QuotaStoreError {
                    failure = error
                } catch {}
            }
        }

        func dailyCounts(planId: String, keyId: String, from first: CalendarDay, through last: CalendarDay) throws(QuotaStoreError) -> [Int] {
            try locked { () throws(QuotaStoreError) -> [Int] in
                guard db != nil else { throw .closed }
                drainLocked()
                return try dailyCountsLocked(planId: planId, keyId: keyId,
                                             from: first.daysSinceEpoch, through: last.daysSinceEpoch)
            }
        }

        func close() {
            mutex.withLock {
                guard db != nil else { return }
                do {
                    try flushLocked()
                } catch let error as QuotaStoreError {
                    failure = error
                } catch {}
                closeLocked()
            }
        }

        // MARK: under the lock

        private func locked<T>(_ body: () throws(QuotaStoreError) -> T) throws(QuotaStoreError) -> T {
            do {
                return try mutex.withLock { try body() }
            } catch let error as QuotaStoreError {
                throw error
            } catch {
                throw .closed
            }
        }

        private func drainLocked() {
            var deltas: [(day: Int64, count: Int)] = []
            for counter in counters.values {
                deltas.removeAll(keepingCapacity: true)
                counter.drain(into: &deltas)
                for delta in deltas {
                    pending[RowKey(planId: counter.planId, keyId: counter.keyId, day: delta.day), default: 0] += delta.count
                }
            }
        }

        private func flushLocked() throws(QuotaStoreError) {
            drainLocked()
            guard !pending.isEmpty else { return }
            try execute("BEGIN IMMEDIATE")
            do throws(QuotaStoreError) {
                for (row, count) in pending {
                    sqlite3_reset(upsert)
                    sqlite3_bind_text(upsert, 1, row.planId, -1, Self.transient)
                    sqlite3_bind_text(upsert, 2, row.keyId, -1, Self.transient)
                    sqlite3_bind_text(upsert, 3, CalendarDay(daysSinceEpoch: row.day).iso, -1, Self.transient)
                    sqlite3_bind_int64(upsert, 4, Int64(count))
                    let code = sqlite3_step(upsert)
                    guard code == SQLITE_DONE else { throw error("write usage row", code) }
                }
                try execute("COMMIT")
                pending.removeAll()
            } catch {
                _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
                throw error
            }
        }

        /// Rows plus counts drained but not yet committed, one entry per day.
        private func dailyCountsLocked(planId: String, keyId: String, from first: Int64, through last: Int64) throws(QuotaStoreError) -> [Int] {
            guard last >= first else { return [] }
            var counts = [Int](repeating: 0, count: Int(last - first + 1))
            sqlite3_reset(selectRange)
            sqlite3_bind_text(selectRange, 1, planId, -1, Self.transient)
            sqlite3_bind_text(selectRange, 2, keyId, -1, Self.transient)
            sqlite3_bind_text(selectRange, 3, CalendarDay(daysSinceEpoch: first).iso, -1, Self.transient)
            sqlite3_bind_text(selectRange, 4, CalendarDay(daysSinceEpoch: last).iso, -1, Self.transient)
            while true {
                let code = sqlite3_step(selectRange)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else { throw error("read usage rows", code) }
                guard let text = sqlite3_column_text(selectRange, 0),
                      let day = CalendarDay(iso: String(cString: text)) else { continue }
                counts[Int(day.daysSinceEpoch - first)] += Int(sqlite3_column_int64(selectRange, 1))
            }
            for (row, count) in pending where row.planId == planId && row.keyId == keyId && row.day >= first && row.day <= last {
                counts[Int(row.day - first)] += count
            }
            return counts
        }

        private func execute(_ sql: String) throws(QuotaStoreError) {
            let code = sqlite3_exec(db, sql, nil, nil, nil)
            guard code == SQLITE_OK else { throw error(sql, code) }
        }

        private func prepare(_ sql: String) throws(QuotaStoreError) -> OpaquePointer? {
            var statement: OpaquePointer?
            let code = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
            guard code == SQLITE_OK else { throw error("prepare", code) }
            return statement
        }

        private func error(_ operation: String, _ code: Int32) -> QuotaStoreError {
            .sqlite(operation: operation, code: code, message: db.map { String(cString: sqlite3_errmsg($0)) } ?? "")
        }

        private func closeLocked() {
            sqlite3_finalize(upsert)
            sqlite3_finalize(selectRange)
            upsert = nil
            selectRange = nil
            sqlite3_close_v2(db)
            db = nil
        }

        /// SQLITE_TRANSIENT: SQLite copies bound text before the Swift string's buffer goes away.
        private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    }
}
