import Foundation
import XCTest
@testable import TurnpikeAuth

/// Prints what authorization costs (not a timed test: it asserts nothing about speed).
final class CostMeasurementTests: XCTestCase {
    private func measureNanoseconds(_ iterations: Int, _ body: () -> Void) -> Double {
        body()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations)
    }

    func testPrintCostOfUncachedVerifyAndCachedHit() {
        let authorizer = Fixture.fileAuthorizer()
        let names = ["RS256", "PS256", "ES256", "ES384", "EdDSA"]
        for name in names {
            let token = Array(Fixture.token("valid_" + name).utf8)
            let ns = token.withUnsafeBytes { bytes in
                measureNanoseconds(2000) {
                    if case .failure = authorizer.verify(token: bytes, nowSeconds: Fixture.now) { XCTFail(name) }
                }
            }
            print("JWT cost: uncached \(name) verify: \(String(format: "%.1f", ns / 1000)) µs")
        }
        let token = Array(Fixture.token("valid_RS256").utf8)
        var cache = TokenCache()
        let hit = token.withUnsafeBytes { bytes in
            measureNanoseconds(1_000_000) {
                if case .deny = authorizer.authorize(token: bytes, requiredScopes: ["pets:read"],
                                                      nowSeconds: Fixture.now, cache: &cache) { XCTFail("denied") }
            }
        }
        print("JWT cost: cached RS256 authorize (hash + compare + scope check), \(token.count)-byte token: \(String(format: "%.0f", hit)) ns")
        var sink: UInt64 = 0
        let hash = token.withUnsafeBytes { bytes in
            measureNanoseconds(1_000_000) { sink &+= TokenCache.hash(UnsafeRawBufferPointer(rebasing: bytes[Int(sink & 1)...])) }
        }
        print("JWT cost: token hash alone: \(String(format: "%.0f", hash)) ns (\(sink & 1))")
    }
}
