/// Where each path variable of the matched route sits in the request path; one per worker, reused across requests.
public struct PathCaptures: Sendable {
    /// One captured variable: raw (still percent-encoded) bytes `start..<end` of the matched path,
    /// and `nameIndex` into the route table's `parameterNames`.
    public struct Capture: Equatable, Sendable {
        public var start: Int
        public var end: Int
        public var nameIndex: Int
    }

    private var storage: [Capture]

    /// Reserves room for `capacity` captures; the storage is kept between matches, so a table's
    /// `maxParameterCount` worth of capacity means matching never allocates.
    public init(capacity: Int = 8) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }

    public subscript(index: Int) -> Capture { storage[index] }

    mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
    }

    mutating func append(start: Int, end: Int) {
        storage.append(Capture(start: start, end: end, nameIndex: -1))
    }

    mutating func truncate(to count: Int) {
        if storage.count > count { storage.removeLast(storage.count - count) }
    }

    mutating func setNameIndex(_ nameIndex: Int, at index: Int) {
        storage[index].nameIndex = nameIndex
    }
}
