import XCTest
@testable import TurnpikeLambda

final class RuntimeAPIRouteTests: XCTestCase {
    func testRuntimeAPIPaths() {
        XCTAssertEqual(RuntimeAPIRoute.parse(method: "GET", path: "/2018-06-01/runtime/invocation/next"), .next)
        XCTAssertEqual(RuntimeAPIRoute.parse(method: "POST", path: "/2018-06-01/runtime/invocation/abc-1/response"),
                       .response(requestId: "abc-1"))
        XCTAssertEqual(RuntimeAPIRoute.parse(method: "POST", path: "/2018-06-01/runtime/invocation/abc-1/error"),
                       .error(requestId: "abc-1"))
        XCTAssertEqual(RuntimeAPIRoute.parse(method: "POST", path: "/2018-06-01/runtime/init/error"), .initError)
        XCTAssertEqual(RuntimeAPIRoute.parse(method: "POST", path: "/2018-06-01/runtime/invocation/next"), .unknown)
        XCTAssertEqual(RuntimeAPIRoute.parse(method: "POST", path: "/2018-06-01/runtime/invocation//response"), .unknown)
        XCTAssertEqual(RuntimeAPIRoute.parse(method: "GET", path: "/2015-03-31/functions/x/invocations"), .unknown)
    }
}

final class FunctionSchedulerTests: XCTestCase {
    private func invocation(_ id: String, token: UInt64, deadline: UInt64 = 1_000) -> Invocation {
        Invocation(id: id, payload: [], deadlineNs: deadline, deadlineEpochMs: 0, ticket: InvocationTicket(worker: 0, token: token))
    }

    func testColdStartSpawnsThenDeliversWhenTheProcessAsks() {
        var s = FunctionScheduler(concurrency: 2)
        XCTAssertEqual(s.submit(invocation("a", token: 1)), [.spawn(slot: 0)])
        XCTAssertEqual(s.nextRequested(slot: 0), [.deliver(slot: 0, invocation("a", token: 1))])
        XCTAssertEqual(s.finished(slot: 0, requestId: "a", outcome: .success([1])),
                       [.complete(InvocationTicket(worker: 0, token: 1), .success([1]))])
    }

    func testWarmProcessIsReused() {
        var s = FunctionScheduler(concurrency: 2)
        _ = s.submit(invocation("a", token: 1))
        _ = s.nextRequested(slot: 0)
        _ = s.finished(slot: 0, requestId: "a", outcome: .success([]))
        XCTAssertEqual(s.nextRequested(slot: 0), [])
        XCTAssertEqual(s.submit(invocation("b", token: 2)), [.deliver(slot: 0, invocation("b", token: 2))])
    }

    func testReservedConcurrencyThrottles() {
        var s = FunctionScheduler(concurrency: 1)
        _ = s.submit(invocation("a", token: 1))
        XCTAssertEqual(s.submit(invocation("b", token: 2)), [.complete(InvocationTicket(worker: 0, token: 2), .throttled)])
    }

    func testDeadlineKillsTheProcessAndTimesOut() {
        var s = FunctionScheduler(concurrency: 1)
        _ = s.submit(invocation("a", token: 1, deadline: 100))
        _ = s.nextRequested(slot: 0)
        XCTAssertEqual(s.tick(nowNs: 99), [])
        XCTAssertEqual(s.tick(nowNs: 100), [.kill(slot: 0), .complete(InvocationTicket(worker: 0, token: 1), .timedOut)])
        XCTAssertEqual(s.processExited(slot: 0, status: "signal 9"), [])
        XCTAssertEqual(s.slots, [.empty])
    }

    func testCrashDuringAnInvocationFailsItAndTheNextOneRestarts() {
        var s = FunctionScheduler(concurrency: 1)
        _ = s.submit(invocation("a", token: 1))
        _ = s.nextRequested(slot: 0)
        let actions = s.processExited(slot: 0, status: "exit status 3")
        XCTAssertEqual(actions.count, 1)
        guard case .complete(_, .failed) = actions[0] else { return XCTFail("\(actions)") }
        XCTAssertEqual(s.submit(invocation("b", token: 2)), [.spawn(slot: 0)])
    }

    func testProcessThatDiesBeforeAskingFailsOneQueuedInvocation() {
        var s = FunctionScheduler(concurrency: 1)
        _ = s.submit(invocation("a", token: 1))
        let actions = s.processExited(slot: 0, status: "exit status 1")
        guard case .complete(let ticket, .failed)? = actions.first else { return XCTFail("\(actions)") }
        XCTAssertEqual(ticket.token, 1)
        XCTAssertTrue(s.queue.isEmpty)
    }

    func testResponseForAnotherRequestIdIsRefused() {
        var s = FunctionScheduler(concurrency: 1)
        _ = s.submit(invocation("a", token: 1))
        _ = s.nextRequested(slot: 0)
        XCTAssertNil(s.finished(slot: 0, requestId: "other", outcome: .success([])))
    }
}
