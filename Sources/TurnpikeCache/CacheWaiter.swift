/// Who is waiting for an in-flight fill: the worker to post the response to, and that worker's
/// token for the waiting exchange. A plain value, so the cache never holds a worker's objects.
public struct CacheWaiter: Hashable, Sendable {
    public let workerIndex: Int
    public let token: UInt64

    public init(workerIndex: Int, token: UInt64) {
        self.workerIndex = workerIndex
        self.token = token
    }
}
