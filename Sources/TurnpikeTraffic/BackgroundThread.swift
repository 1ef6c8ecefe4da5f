#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex for the background side (the quota flusher and its callers); the request path never takes it.
final class PThreadMutex: @unchecked Sendable {
    fileprivate let raw: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        raw = .allocate(capacity: 1)
        raw.initialize(to: pthread_mutex_t())
        pthread_mutex_init(raw, nil)
    }

    deinit {
        pthread_mutex_destroy(raw)
        raw.deinitialize(count: 1)
        raw.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(raw)
        defer { pthread_mutex_unlock(raw) }
        return try body()
    }
}

/// A thread that runs `tick` every `intervalSeconds` until `stop()`, which wakes it at once and waits for it to finish.
///
/// Plain pthreads and a condition variable rather than Foundation's `Thread`, so the module keeps
/// Foundation off its link line like the rest of the request-path code.
final class PeriodicThread: @unchecked Sendable {
    private final class Context {
        let tick: () -> Void
        let intervalNs: Int64
        let mutex = PThreadMutex()
        let condition: UnsafeMutablePointer<pthread_cond_t>
        var stopping = false

        init(tick: @escaping () -> Void, intervalNs: Int64) {
            self.tick = tick
            self.intervalNs = intervalNs
            condition = .allocate(capacity: 1)
            condition.initialize(to: pthread_cond_t())
            pthread_cond_init(condition, nil)
        }

        deinit {
            pthread_cond_destroy(condition)
            condition.deinitialize(count: 1)
            condition.deallocate()
        }

        func run() {
            while true {
                let stop: Bool = mutex.withLock {
                    if !stopping {
                        var now = timespec()
                        clock_gettime(CLOCK_REALTIME, &now)
                        let total = Int64(now.tv_nsec) + intervalNs
                        var deadline = timespec()
                        deadline.tv_sec = now.tv_sec + time_t(total / 1_000_000_000)
                        deadline.tv_nsec = Int(total % 1_000_000_000)
                        _ = pthread_cond_timedwait(condition, mutex.raw, &deadline)
                    }
                    return stopping
                }
                if stop { return }
                tick()
            }
        }
    }

    private let context: Context
    #if canImport(Glibc)
    private var thread = pthread_t()
    #else
    private var thread: pthread_t?
    #endif
    private var joined = false
    private let stateMutex = PThreadMutex()

    init(intervalSeconds: Double, tick: @escaping () -> Void) {
        context = Context(tick: tick, intervalNs: Int64(intervalSeconds * 1_000_000_000))
        let retained = Unmanaged.passRetained(context).toOpaque()
        pthread_create(&thread, nil, { raw in
            #if canImport(Glibc)
            let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
            #else
            let context = Unmanaged<Context>.fromOpaque(raw).takeRetainedValue()
            #endif
            context.run()
            return nil
        }, retained)
    }

    /// Stops the thread after its current tick, if any; safe to call more than once.
    func stop() {
        stateMutex.withLock {
            guard !joined else { return }
            joined = true
            context.mutex.withLock {
                context.stopping = true
                pthread_cond_signal(context.condition)
            }
            #if canImport(Glibc)
            pthread_join(thread, nil)
            #else
            if let thread { pthread_join(thread, nil) }
            #endif
        }
    }

    deinit {
        stop()
    }
}
