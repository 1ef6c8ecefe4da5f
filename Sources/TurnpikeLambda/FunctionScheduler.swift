/// Who waits for an invocation: a worker and its exchange token.
public struct InvocationTicket: Sendable, Equatable, Hashable {
    public let worker: Int
    public let token: UInt64
    public init(worker: Int, token: UInt64) {
        self.worker = worker
        self.token = token
    }
}

/// One event on its way to a function.
public struct Invocation: Sendable, Equatable {
    /// The Lambda request id (`Lambda-Runtime-Aws-Request-Id`).
    public let id: String
    public let payload: [UInt8]
    /// Monotonic nanoseconds after which the invocation has timed out.
    public let deadlineNs: UInt64
    /// Wall-clock milliseconds of the same deadline (`Lambda-Runtime-Deadline-Ms`).
    public let deadlineEpochMs: UInt64
    public let ticket: InvocationTicket
    /// When it was handed in, for the gateway overhead measurement.
    public let submittedNs: UInt64

    public init(id: String, payload: [UInt8], deadlineNs: UInt64, deadlineEpochMs: UInt64, ticket: InvocationTicket, submittedNs: UInt64 = 0) {
        self.id = id
        self.payload = payload
        self.deadlineNs = deadlineNs
        self.deadlineEpochMs = deadlineEpochMs
        self.ticket = ticket
        self.submittedNs = submittedNs
    }
}

/// How an invocation ended, which decides what the client gets.
public enum InvocationOutcome: Sendable, Equatable {
    /// The function's result payload.
    case success([UInt8])
    /// The function raised (`/error`): 502, the error document in the log.
    case functionError([UInt8])
    /// Ran past the function's timeout (its process was killed): 504.
    case timedOut
    /// The process died, or failed to initialise: 502.
    case failed(String)
    /// The function's reserved concurrency is in use: 429.
    case throttled
}

/// What the process pool must do, as the scheduler decides it.
public enum PoolAction: Equatable, Sendable {
    /// Start a process in this slot (cold start).
    case spawn(slot: Int)
    /// Answer the slot's waiting `/next` with this invocation.
    case deliver(slot: Int, Invocation)
    /// Kill the slot's process (it ran past a deadline).
    case kill(slot: Int)
    case complete(InvocationTicket, InvocationOutcome)
}

/// One function's pool as a state machine without I/O: processes in slots, invocations
/// queued until a process asks `/next`, throttling at the reserved concurrency, deadlines.
/// Each accepted invocation has a slot of its own, so nothing waits behind a busy process.
public struct FunctionScheduler: Sendable {
    public enum SlotState: Equatable, Sendable {
        /// No process.
        case empty
        /// A process runs but is not waiting for work (starting, or just answered).
        case running
        /// Its process waits in `/next`.
        case waiting
        /// Its process works on this invocation.
        case busy(Invocation)
        /// Killed; waiting for it to exit.
        case killing
    }

    public private(set) var slots: [SlotState]
    public private(set) var queue: [Invocation] = []

    public init(concurrency: Int) {
        slots = Array(repeating: .empty, count: max(1, concurrency))
    }

    private var busyCount: Int {
        slots.reduce(0) { if case .busy = $1 { return $0 + 1 } else { return $0 } }
    }

    /// An invocation arrives: queued and dispatched, or throttled.
    public mutating func submit(_ invocation: Invocation) -> [PoolAction] {
        guard queue.count + busyCount < slots.count else {
            return [.complete(invocation.ticket, .throttled)]
        }
        queue.append(invocation)
        return dispatch()
    }

    /// The slot's process asked for the next event.
    public mutating func nextRequested(slot: Int) -> [PoolAction] {
        var actions: [PoolAction] = []
        if case .busy(let current) = slots[slot] {
            // Asking again without answering: the runtime gave up on it.
            actions.append(.complete(current.ticket, .failed("the runtime asked for the next event without answering \(current.id)")))
        }
        if slots[slot] != .killing { slots[slot] = .waiting }
        return actions + dispatch()
    }

    /// `/response` or `/error` for `requestId` from the slot's process; nil when the slot
    /// holds no such invocation (the caller answers 400).
    public mutating func finished(slot: Int, requestId: String, outcome: InvocationOutcome) -> [PoolAction]? {
        guard case .busy(let invocation) = slots[slot], invocation.id == requestId else { return nil }
        slots[slot] = .running
        return [.complete(invocation.ticket, outcome)]
    }

    /// The process reported an initialisation error; it exits next.
    public mutating func initFailed(slot: Int, message: String) -> [PoolAction] {
        guard slots[slot] == .running || slots[slot] == .waiting, !queue.isEmpty else { return [] }
        return [.complete(queue.removeFirst().ticket, .failed(message))]
    }

    /// The slot's process exited (or was reaped after a kill).
    public mutating func processExited(slot: Int, status: String) -> [PoolAction] {
        var actions: [PoolAction] = []
        switch slots[slot] {
        case .busy(let invocation):
            actions.append(.complete(invocation.ticket, .failed("the function process exited (\(status)) during \(invocation.id)")))
        case .running where !queue.isEmpty && !slots.contains(.waiting):
            // Died before asking for work: one queued invocation fails, so a function that
            // cannot start does not restart forever for the same request.
            actions.append(.complete(queue.removeFirst().ticket, .failed("the function process exited (\(status)) before taking an event")))
        default:
            break
        }
        slots[slot] = .empty
        return actions + dispatch()
    }

    /// Deadlines: busy invocations past theirs are killed, queued ones time out.
    public mutating func tick(nowNs: UInt64) -> [PoolAction] {
        var actions: [PoolAction] = []
        for i in slots.indices {
            if case .busy(let invocation) = slots[i], nowNs >= invocation.deadlineNs {
                slots[i] = .killing
                actions.append(.kill(slot: i))
                actions.append(.complete(invocation.ticket, .timedOut))
            }
        }
        queue.removeAll { invocation in
            guard nowNs >= invocation.deadlineNs else { return false }
            actions.append(.complete(invocation.ticket, .timedOut))
            return true
        }
        return actions
    }

    /// Takes every queued invocation out (the pool is being replaced).
    public mutating func drainQueue() -> [Invocation] {
        defer { queue.removeAll() }
        return queue
    }

    /// The slot's process is being killed from outside (its pool retires); its exit is
    /// then no failure of anything.
    public mutating func markKilling(slot: Int) {
        if case .busy = slots[slot] { return }
        slots[slot] = .killing
    }

    /// Queued invocations go to waiting processes; processes start for the rest.
    private mutating func dispatch() -> [PoolAction] {
        var actions: [PoolAction] = []
        while !queue.isEmpty, let i = slots.firstIndex(of: .waiting) {
            let invocation = queue.removeFirst()
            slots[i] = .busy(invocation)
            actions.append(.deliver(slot: i, invocation))
        }
        var starting = slots.filter { $0 == .running }.count
        while starting < queue.count, let i = slots.firstIndex(of: .empty) {
            slots[i] = .running
            actions.append(.spawn(slot: i))
            starting += 1
        }
        return actions
    }
}
