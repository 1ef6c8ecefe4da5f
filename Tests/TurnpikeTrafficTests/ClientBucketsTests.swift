import XCTest
@testable import TurnpikeTraffic

final class ClientBucketsTests: XCTestCase {
    private let alice: [UInt8] = [192, 0, 2, 1]
    private let bob: [UInt8] = [192, 0, 2, 2]
    private let carol: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03]

    private func table(burst: Int = 2, rate: Double = 1, capacity: Int = 65_536) throws -> ClientBuckets {
        try ClientBuckets(throttle: ThrottleSpec(burstLimit: burst, rateLimit: rate), capacity: capacity, seed: 42)
    }

    func testEachAddressHasItsOwnBucket() throws {
        let t = try table(burst: 3)
        XCTAssertEqual(drain({ t.admit(self.alice, nowNs: $0) }, nowNs: 0), 3)
        XCTAssertEqual(t.admit(alice, nowNs: 0), .limited(retryAfterSeconds: 1))
        XCTAssertEqual(drain({ t.admit(self.bob, nowNs: $0) }, nowNs: 0), 3)
        XCTAssertEqual(drain({ t.admit(self.carol, nowNs: $0) }, nowNs: 0), 3)
    }

    func testAddressBucketRefillsAtTheConfiguredRate() throws {
        let t = try table(burst: 2, rate: 2)
        XCTAssertEqual(drain({ t.admit(self.alice, nowNs: $0) }, nowNs: 0), 2)
        XCTAssertEqual(drain({ t.admit(self.alice, nowNs: $0) }, nowNs: 500 * nsPerMillisecond), 1)
        XCTAssertEqual(drain({ t.admit(self.alice, nowNs: $0) }, nowNs: 60 * nsPerSecond), 2)
    }

    func testTwoAddressesOnOnePairEachGetASlot() throws {
        // Capacity 2 is a single pair: every address hashes to it.
        let t = try table(burst: 2, capacity: 2)
        XCTAssertEqual(drain({ t.admit(self.alice, nowNs: $0) }, nowNs: 0), 2)
        XCTAssertEqual(drain({ t.admit(self.bob, nowNs: $0) }, nowNs: 0), 2)
    }

    func testThirdActiveAddressOnAFullPairSharesABucketAndIsNeverLetPastALimit() throws {
        let t = try table(burst: 2, capacity: 2)
        XCTAssertEqual(drain({ t.admit(self.alice, nowNs: $0) }, nowNs: 0), 2)
        XCTAssertEqual(drain({ t.admit(self.bob, nowNs: $0) }, nowNs: 0), 2)
        // Both slots are still draining at t = 0, so carol shares one of the two empty buckets.
        XCTAssertEqual(t.admit(carol, nowNs: 0), .limited(retryAfterSeconds: 1))
    }

    func testRefilledSlotIsTakenOverAndTheNewcomerStartsWithAFullBucket() throws {
        let t = try table(burst: 2, capacity: 2)
        XCTAssertEqual(drain({ t.admit(self.alice, nowNs: $0) }, nowNs: 0), 2)
        XCTAssertEqual(drain({ t.admit(self.bob, nowNs: $0) }, nowNs: 0), 2)
        // At 10 s both buckets are full again: carol takes one over, and gets exactly a full burst.
        let later = 10 * nsPerSecond
        XCTAssertEqual(drain({ t.admit(self.carol, nowNs: $0) }, nowNs: later), 2)
        // Whichever of alice and bob lost the slot comes back to a full bucket too.
        XCTAssertEqual(drain({ t.admit(self.alice, nowNs: $0) }, nowNs: later), 2)
        XCTAssertEqual(drain({ t.admit(self.bob, nowNs: $0) }, nowNs: later), 0)
    }

    func testAddressWithPartlyDrainedBucketIsNotEvictedNorReset() throws {
        let t = try table(burst: 4, rate: 1, capacity: 2)
        XCTAssertEqual(t.admit(alice, nowNs: 0), .admitted)
        XCTAssertEqual(drain({ t.admit(self.bob, nowNs: $0) }, nowNs: 0), 4)
        // Half a second later neither bucket is full, so carol can take over neither: she shares one.
        // Alice's 3 remaining tokens stay hers or are shared with carol; none are added or lost.
        let now = 500 * nsPerMillisecond
        let carolAdmitted = drain({ t.admit(self.carol, nowNs: $0) }, nowNs: now)
        let aliceAdmitted = drain({ t.admit(self.alice, nowNs: $0) }, nowNs: now)
        XCTAssertEqual(carolAdmitted + aliceAdmitted, 3)
        XCTAssertEqual(drain({ t.admit(self.bob, nowNs: $0) }, nowNs: now), 0)
    }

    func testRefundReturnsTheTokenToTheSameAddress() throws {
        let t = try table(burst: 2)
        XCTAssertEqual(drain({ t.admit(self.alice, nowNs: $0) }, nowNs: 0), 2)
        t.refund(alice, nowNs: 0)
        XCTAssertEqual(drain({ t.admit(self.bob, nowNs: $0) }, nowNs: 0), 2)
        XCTAssertEqual(drain({ t.admit(self.alice, nowNs: $0) }, nowNs: 0), 1)
    }

    func testCapacityMustBeAPowerOfTwo() {
        XCTAssertThrowsError(try table(capacity: 1000)) {
            XCTAssertEqual($0 as? TrafficConfigError, .invalidCapacity(1000))
        }
        XCTAssertThrowsError(try table(capacity: 1))
    }

    func testManyThreadsFromOneAddressAdmitExactlyItsBurst() throws {
        let t = try table(burst: 1000, rate: 1)
        let tally = Tally()
        let address = alice
        runOnThreads(8) { _ in
            var admitted = 0
            for _ in 0 ..< 10_000 where t.admit(address, nowNs: 5 * nsPerSecond) == .admitted { admitted += 1 }
            tally.add(admitted)
        }
        XCTAssertEqual(tally.total, 1000)
    }
}
