import Foundation
import XCTest
@testable import TurnpikeBench

/// How turnpike-bench reads its flags and files and splits the work over threads (no load).
final class BenchPlanTests: XCTestCase {
    func testDurationsTakeUnitsOrBareSeconds() {
        XCTAssertEqual(Duration.parseNanoseconds("10s"), 10_000_000_000)
        XCTAssertEqual(Duration.parseNanoseconds("500ms"), 500_000_000)
        XCTAssertEqual(Duration.parseNanoseconds("2m"), 120_000_000_000)
        XCTAssertEqual(Duration.parseNanoseconds("250us"), 250_000)
        XCTAssertEqual(Duration.parseNanoseconds("1.5"), 1_500_000_000)
        XCTAssertNil(Duration.parseNanoseconds("soon"))
        XCTAssertNil(Duration.parseNanoseconds("-1s"))
    }

    func testURLGivesSchemePortPathAndAuthority() throws {
        let (plain, path) = try BenchPlan.parse(url: "http://127.0.0.1:8080/pets/7?x=1")
        XCTAssertEqual(plain, BenchTarget(tls: false, host: "127.0.0.1", port: 8080, ip: "127.0.0.1"))
        XCTAssertEqual(path, "/pets/7?x=1")
        XCTAssertEqual(plain.authority, "127.0.0.1:8080")
        let (tls, root) = try BenchPlan.parse(url: "https://localhost")
        XCTAssertTrue(tls.tls)
        XCTAssertEqual(tls.port, 443)
        XCTAssertEqual(tls.authority, "localhost")
        XCTAssertEqual(root, "/")
        let (v6, query) = try BenchPlan.parse(url: "http://[::1]:9000?q=1")
        XCTAssertEqual(v6.ip, "::1")
        XCTAssertEqual(v6.authority, "[::1]:9000")
        XCTAssertEqual(query, "/?q=1")
    }

    func testURLsThatCannotBeLoadedAreRefused() {
        XCTAssertThrowsError(try BenchPlan.parse(url: "ftp://127.0.0.1/"))
        XCTAssertThrowsError(try BenchPlan.parse(url: "http://127.0.0.1:notaport/"))
        XCTAssertThrowsError(try BenchPlan.parse(url: "http:///path"))
    }

    func testConnectionsCountAndRateAreSplitOverThreads() {
        let shares = BenchRun.shares(connections: 10, threads: 3, requests: 100, rate: 1000)
        XCTAssertEqual(shares.map(\.connections), [4, 3, 3])
        XCTAssertEqual(shares.map(\.connectionBase), [0, 4, 7])
        XCTAssertEqual(shares.map(\.count).reduce(0, +), 100)
        XCTAssertEqual(shares.map(\.rate).reduce(0, +), 1000, accuracy: 1e-9)
        XCTAssertEqual(BenchRun.shares(connections: 2, threads: 8, requests: nil, rate: nil).count, 2)
        XCTAssertEqual(BenchRun.shares(connections: 8, threads: 4, requests: 3, rate: nil).map(\.count), [1, 1, 1])
    }

    func testURLFileGivesWeightsAndMethodsOnOneTarget() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mix-\(getpid()).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try "# a mix\n3 http://127.0.0.1:8080/a\nPOST http://127.0.0.1:8080/b\n2 delete http://127.0.0.1:8080/c\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let plan = try BenchPlan(BenchOptions.parse(["--url-file", file.path, "-X", "PUT"]))
        XCTAssertEqual(plan.kinds.map(\.weight), [3, 1, 2])
        XCTAssertEqual(plan.kinds.map(\.method), ["PUT", "POST", "DELETE"])
        XCTAssertEqual(plan.kinds.map(\.path), ["/a", "/b", "/c"])
    }

    func testURLsOnDifferentTargetsAndFramingHeadersAreRefused() throws {
        XCTAssertThrowsError(try BenchPlan(BenchOptions.parse(["http://127.0.0.1:1/", "http://127.0.0.1:2/"])))
        XCTAssertThrowsError(try BenchPlan(BenchOptions.parse(["-H", "Content-Length: 5", "http://127.0.0.1:1/"])))
        XCTAssertThrowsError(try BenchPlan(BenchOptions.parse(["-H", "no colon", "http://127.0.0.1:1/"])))
    }
}
