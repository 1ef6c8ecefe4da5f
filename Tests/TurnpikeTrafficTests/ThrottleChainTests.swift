import XCTest
@testable import TurnpikeTraffic

final class ThrottleChainTests: XCTestCase {
    private func bucket(burst: Int, rate: Double) throws -> GCRABucket {
        try GCRABucket(ThrottleSpec(burstLimit: burst, rateLimit: rate))
    }

    func testChainAdmitsOnlyWhenEveryBucketAdmits() throws {
        let key = try bucket(burst: 3, rate: 1)
        let stage = try bucket(burst: 10, rate: 1)
        var chain = ThrottleChain()
        chain.append(key)
        chain.append(nil)
        chain.append(stage)
        XCTAssertEqual(chain.count, 2)
        XCTAssertEqual(drain(chain.admit, nowNs: 0), 3)
    }

    func testRefusalByALaterBucketRefundsTheEarlierOnes() throws {
        let stage = try bucket(burst: 10, rate: 1)
        let route = try bucket(burst: 3, rate: 1)
        var chain = ThrottleChain()
        chain.append(stage)
        chain.append(route)
        var admitted = 0
        for _ in 0 ..< 20 where chain.admit(nowNs: 0) == .admitted { admitted += 1 }
        XCTAssertEqual(admitted, 3)
        // 17 refusals cost the stage nothing: it still has 10 - 3 tokens.
        XCTAssertEqual(drain(stage.admit, nowNs: 0), 7)
    }

    func testRefusalReportsTheRefusingBucketsRetryAfter() throws {
        let stage = try bucket(burst: 10, rate: 10)
        let key = try bucket(burst: 1, rate: 0.25)
        var chain = ThrottleChain()
        chain.append(key)
        chain.append(stage)
        XCTAssertEqual(chain.admit(nowNs: 0), .admitted)
        XCTAssertEqual(chain.admit(nowNs: 0), .limited(retryAfterSeconds: 4))
    }

    func testConcurrentRefusalsLeaveEveryBucketCountingOnlyAdmittedRequests() throws {
        // Eight keys of 100 tokens share a stage of 500: whatever the interleaving, exactly 500 get
        // through, and each key has spent exactly what it got through.
        let stage = try bucket(burst: 500, rate: 0.001)
        let keys = try (0 ..< 8).map { _ in try bucket(burst: 100, rate: 0.001) }
        let tally = Tally()
        let perKey = (0 ..< 8).map { _ in Tally() }
        runOnThreads(8) { index in
            var chain = ThrottleChain()
            chain.append(keys[index])
            chain.append(stage)
            var admitted = 0
            for _ in 0 ..< 1000 where chain.admit(nowNs: 0) == .admitted { admitted += 1 }
            tally.add(admitted)
            perKey[index].add(admitted)
        }
        XCTAssertEqual(tally.total, 500)
        XCTAssertEqual(drain(stage.admit, nowNs: 0), 0)
        for index in 0 ..< 8 {
            XCTAssertEqual(drain(keys[index].admit, nowNs: 0), 100 - perKey[index].total, "key \(index)")
        }
    }
}
