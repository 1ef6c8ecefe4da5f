import Foundation
import XCTest
@testable import TurnpikeTraffic

final class GCRABucketTests: XCTestCase {
    private func bucket(burst: Int, rate: Double) throws -> GCRABucket {
        try GCRABucket(ThrottleSpec(burstLimit: burst, rateLimit: rate))
    }

    func testFullBucketAdmitsExactlyBurstAtOneInstant() throws {
        let b = try bucket(burst: 5, rate: 10)
        XCTAssertEqual(drain(b.admit, nowNs: 0), 5)
    }

    func testAfterBurstOneRequestIsAdmittedPerInterval() throws {
        let b = try bucket(burst: 5, rate: 10)
        XCTAssertEqual(drain(b.admit, nowNs: 0), 5)
        XCTAssertEqual(b.admit(nowNs: 99 * nsPerMillisecond), .limited(retryAfterSeconds: 1))
        XCTAssertEqual(b.admit(nowNs: 100 * nsPerMillisecond), .admitted)
        XCTAssertEqual(b.admit(nowNs: 100 * nsPerMillisecond), .limited(retryAfterSeconds: 1))
        XCTAssertEqual(drain(b.admit, nowNs: 350 * nsPerMillisecond), 2)
    }

    func testSteadyAttemptsOverAWindowAdmitBurstPlusRateTimesWindow() throws {
        let b = try bucket(burst: 20, rate: 50)
        var admitted = 0
        var now: UInt64 = 0
        while now <= 10 * nsPerSecond {
            if b.admit(nowNs: now) == .admitted { admitted += 1 }
            now += nsPerMillisecond
        }
        XCTAssertEqual(admitted, 20 + 50 * 10)
    }

    func testIdleBucketRefillsToBurstAndNotBeyond() throws {
        let b = try bucket(burst: 5, rate: 10)
        XCTAssertEqual(drain(b.admit, nowNs: 0), 5)
        XCTAssertEqual(drain(b.admit, nowNs: 1000 * nsPerSecond), 5)
        XCTAssertEqual(drain(b.admit, nowNs: 1000 * nsPerSecond + 300 * nsPerMillisecond), 3)
    }

    func testRetryAfterIsTheWaitForTheNextTokenRoundedUpToWholeSeconds() throws {
        let b = try bucket(burst: 1, rate: 0.2) // one token per 5 s
        XCTAssertEqual(b.intervalNs, 5 * nsPerSecond)
        XCTAssertEqual(b.admit(nowNs: 0), .admitted)
        XCTAssertEqual(b.admit(nowNs: 0), .limited(retryAfterSeconds: 5))
        XCTAssertEqual(b.admit(nowNs: 500 * nsPerMillisecond), .limited(retryAfterSeconds: 5))
        XCTAssertEqual(b.admit(nowNs: 1 * nsPerSecond), .limited(retryAfterSeconds: 4))
        XCTAssertEqual(b.admit(nowNs: 4 * nsPerSecond + 1), .limited(retryAfterSeconds: 1))
        XCTAssertEqual(b.admit(nowNs: 5 * nsPerSecond), .admitted)
    }

    func testRetryAfterIsAtLeastOneSecondForSubSecondWaits() throws {
        let b = try bucket(burst: 1, rate: 1000)
        XCTAssertEqual(b.admit(nowNs: 0), .admitted)
        XCTAssertEqual(b.admit(nowNs: 0), .limited(retryAfterSeconds: 1))
    }

    func testRetryAfterCountsTheWholeQueueAheadOfABurstBucket() throws {
        // Burst 3 at 1 rps: after the burst the next token is 1 s away, whatever the burst.
        let b = try bucket(burst: 3, rate: 1)
        XCTAssertEqual(drain(b.admit, nowNs: 0), 3)
        XCTAssertEqual(b.admit(nowNs: 0), .limited(retryAfterSeconds: 1))
        XCTAssertEqual(b.admit(nowNs: 1 * nsPerSecond), .admitted)
        XCTAssertEqual(b.admit(nowNs: 1 * nsPerSecond), .limited(retryAfterSeconds: 1))
    }

    func testRateWhoseIntervalIsNotWholeNanosecondsStaysExactOverLongWindows() throws {
        let b = try bucket(burst: 2, rate: 3)
        XCTAssertEqual(b.intervalNs, 333_333_333)
        XCTAssertEqual(drain(b.admit, nowNs: 0), 2)
        var admitted = 0
        var now: UInt64 = 0
        while now <= 1000 * nsPerSecond {
            admitted += drain(b.admit, nowNs: now)
            now += 100 * nsPerMillisecond
        }
        XCTAssertEqual(admitted, 3 * 1000)
    }

    func testFractionalRateBelowOnePerSecondMeansWholeSecondsBetweenTokens() throws {
        XCTAssertEqual(try bucket(burst: 1, rate: 0.1).intervalNs, 10 * nsPerSecond)
        XCTAssertEqual(try bucket(burst: 1, rate: 0.5).intervalNs, 2 * nsPerSecond)
    }

    func testZeroRateRefusesEveryRequest() throws {
        let b = try bucket(burst: 100, rate: 0)
        XCTAssertEqual(b.admit(nowNs: 0), .limited(retryAfterSeconds: 1))
        XCTAssertEqual(b.admit(nowNs: 1000 * nsPerSecond), .limited(retryAfterSeconds: 1))
    }

    func testZeroBurstRefusesEveryRequest() throws {
        let b = try bucket(burst: 0, rate: 100)
        XCTAssertEqual(b.admit(nowNs: 0), .limited(retryAfterSeconds: 1))
        XCTAssertEqual(b.admit(nowNs: 1000 * nsPerSecond), .limited(retryAfterSeconds: 1))
    }

    func testNegativeOrNonFiniteLimitsAreConfigurationErrors() {
        XCTAssertThrowsError(try bucket(burst: -1, rate: 1)) {
            XCTAssertEqual($0 as? TrafficConfigError, .invalidThrottle(burstLimit: -1, rateLimit: 1))
        }
        XCTAssertThrowsError(try bucket(burst: 1, rate: -0.5))
        XCTAssertThrowsError(try bucket(burst: 1, rate: .infinity))
        XCTAssertThrowsError(try bucket(burst: 1, rate: .nan))
    }

    func testRefundGivesTheTokenBackButNeverFillsBeyondBurst() throws {
        let b = try bucket(burst: 2, rate: 1)
        XCTAssertEqual(drain(b.admit, nowNs: 0), 2)
        b.refund()
        XCTAssertEqual(drain(b.admit, nowNs: 0), 1)
        let idle = try bucket(burst: 2, rate: 1)
        idle.refund()
        idle.refund()
        XCTAssertEqual(drain(idle.admit, nowNs: 10 * nsPerSecond), 2)
    }

    func testManyThreadsHammeringOneBucketAdmitExactlyBurstPlusRateTimesWindow() throws {
        // 8 threads share one simulated clock: each attempt takes the next 10 µs tick, so 800,001
        // attempts cover 0 … 8 s, a hundred per token at 1,000 / s, in whatever order the threads race.
        let burst = 50
        let rate = 1000.0
        let b = try bucket(burst: burst, rate: rate)
        let tick: UInt64 = 10_000
        let lastTicket: UInt64 = 800_000
        let window = Double(lastTicket * tick) / Double(nsPerSecond)
        let clock = SharedTicket()
        let tally = Tally()
        runOnThreads(8) { _ in
            var admitted = 0
            while true {
                let ticket = clock.next()
                if ticket > lastTicket { break }
                if b.admit(nowNs: ticket * tick) == .admitted { admitted += 1 }
            }
            tally.add(admitted)
        }
        XCTAssertEqual(tally.total, burst + Int(rate * window))
        XCTAssertEqual(b.admit(nowNs: lastTicket * tick), .limited(retryAfterSeconds: 1))
    }

    func testManyThreadsAtOneInstantAdmitExactlyTheBurst() throws {
        let b = try bucket(burst: 12_345, rate: 1)
        let tally = Tally()
        runOnThreads(8) { _ in
            var admitted = 0
            for _ in 0 ..< 100_000 where b.admit(nowNs: 7 * nsPerSecond) == .admitted {
                admitted += 1
            }
            tally.add(admitted)
        }
        XCTAssertEqual(tally.total, 12_345)
    }
}

/// A ticket dispenser shared by test threads (the simulated clock of the hammering test).
final class SharedTicket: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0

    func next() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        let current = value
        value += 1
        return current
    }
}
