import XCTest
import TurnpikeRouting

/// The canary share over `n` requests is binomial(n, p): mean n·p, standard deviation
/// σ = √(n·p·(1−p)). Every split test accepts the mean ± 5σ, which a correct splitter misses
/// with probability about 6 × 10⁻⁷ (and the generator is seeded, so each run is the same).
private func fiveSigmaBound(requests: Int, percent: Double) -> ClosedRange<Int> {
    let p = percent / 100
    let mean = Double(requests) * p
    let sigma = (Double(requests) * p * (1 - p)).squareRoot()
    return Int((mean - 5 * sigma).rounded(.down))...Int((mean + 5 * sigma).rounded(.up))
}

private func withBytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    Array(text.utf8).withUnsafeBytes(body)
}

final class CanarySplitterTests: XCTestCase {
    private func randomShare(percent: Double, requests: Int = 100_000, seed: UInt64 = 42) -> Int {
        let splitter = CanarySplitter(percentTraffic: percent, sticky: nil)
        var generator = SplitMix64(seed: seed)
        var canary = 0
        for _ in 0..<requests where splitter.routesToCanary(random: generator.next(), stickyValue: nil) {
            canary += 1
        }
        return canary
    }

    func testTenPercentOfRandomRequestsGoToTheCanaryWithinFiveSigma() {
        // σ = √(100 000 · 0.1 · 0.9) ≈ 94.9 requests, so 10 000 ± 475: 10% ± 0.475%.
        let bound = fiveSigmaBound(requests: 100_000, percent: 10)
        XCTAssertEqual(bound, 9525...10475)
        for seed: UInt64 in [1, 42, 0xdead_beef] {
            XCTAssertTrue(bound.contains(randomShare(percent: 10, seed: seed)), "seed \(seed)")
        }
    }

    func testFractionalPercentagesAreHonoured() {
        // 0.5%: σ ≈ 22.3, so 500 ± 112. 33.3%: σ ≈ 149, so 33 300 ± 746. 0.01%: σ ≈ 3.2, so 10 ± 16.
        for percent in [0.5, 33.3, 0.01, 99.5] {
            let share = randomShare(percent: percent)
            XCTAssertTrue(fiveSigmaBound(requests: 100_000, percent: percent).contains(share), "\(percent)%: \(share)")
        }
    }

    func testZeroPercentNeverRoutesToTheCanary() {
        let splitter = CanarySplitter(percentTraffic: 0, sticky: .header("x-user"))
        for random: UInt64 in [0, 1, .max / 2, .max] {
            XCTAssertFalse(splitter.routesToCanary(random: random, stickyValue: nil))
        }
        XCTAssertFalse(withBytes("client") { splitter.routesToCanary(random: 0, stickyValue: $0) })
        XCTAssertEqual(randomShare(percent: 0), 0)
    }

    func testHundredPercentAlwaysRoutesToTheCanary() {
        let splitter = CanarySplitter(percentTraffic: 100, sticky: .cookie("id"))
        for random: UInt64 in [0, 1, .max - 1, .max] {
            XCTAssertTrue(splitter.routesToCanary(random: random, stickyValue: nil))
        }
        XCTAssertTrue(withBytes("client") { splitter.routesToCanary(random: .max, stickyValue: $0) })
        XCTAssertEqual(randomShare(percent: 100), 100_000)
    }

    func testPercentagesAreThresholdsOnTheRandomValue() {
        let half = CanarySplitter(percentTraffic: 50, sticky: nil)
        XCTAssertTrue(half.routesToCanary(random: 1 << 63 - 1, stickyValue: nil))
        XCTAssertFalse(half.routesToCanary(random: 1 << 63, stickyValue: nil))
        let tiny = CanarySplitter(percentTraffic: 1e-12, sticky: nil)
        XCTAssertTrue(tiny.routesToCanary(random: 0, stickyValue: nil))
        XCTAssertFalse(tiny.routesToCanary(random: 1 << 40, stickyValue: nil))
        let almostAll = CanarySplitter(percentTraffic: 99.999999999999, sticky: nil)
        XCTAssertFalse(almostAll.routesToCanary(random: .max, stickyValue: nil))
    }

    func testOutOfRangePercentagesAreClamped() {
        XCTAssertEqual(CanarySplitter(percentTraffic: -5, sticky: nil).percentTraffic, 0)
        XCTAssertEqual(CanarySplitter(percentTraffic: 250, sticky: nil).percentTraffic, 100)
        XCTAssertEqual(CanarySplitter(percentTraffic: .nan, sticky: nil).percentTraffic, 0)
        XCTAssertTrue(CanarySplitter(percentTraffic: .infinity, sticky: nil).routesToCanary(random: .max, stickyValue: nil))
    }

    func testStickyClientAlwaysLandsOnTheSameSide() {
        let splitter = CanarySplitter(percentTraffic: 30, sticky: .header("X-User"))
        XCTAssertEqual(splitter.stickyName, Array("x-user".utf8))
        var generator = SplitMix64(seed: 7)
        for client in 0..<200 {
            let first = withBytes("client-\(client)") { splitter.routesToCanary(random: generator.next(), stickyValue: $0) }
            for _ in 0..<20 {
                let again = withBytes("client-\(client)") { splitter.routesToCanary(random: generator.next(), stickyValue: $0) }
                XCTAssertEqual(again, first, "client-\(client)")
            }
        }
    }

    func testStickyShareOfClientsIsThePercentageWithinFiveSigma() {
        let splitter = CanarySplitter(percentTraffic: 10, sticky: .cookie("session"))
        var canary = 0
        for client in 0..<100_000 where withBytes("session-\(client)", { splitter.routesToCanary(random: .max, stickyValue: $0) }) {
            canary += 1
        }
        XCTAssertTrue(fiveSigmaBound(requests: 100_000, percent: 10).contains(canary), "\(canary)")
    }

    func testRaisingThePercentageOnlyMovesStickyClientsToTheCanary() {
        let ten = CanarySplitter(percentTraffic: 10, sticky: .header("x-user"))
        let twenty = CanarySplitter(percentTraffic: 20, sticky: .header("x-user"))
        for client in 0..<10_000 {
            withBytes("user-\(client)") { value in
                if ten.routesToCanary(random: .max, stickyValue: value) {
                    XCTAssertTrue(twenty.routesToCanary(random: .max, stickyValue: value))
                }
            }
        }
    }

    func testStickyHashIsStableAcrossReleases() {
        // Pinned so a change of hash (which would move every sticky client) fails loudly.
        XCTAssertEqual(withBytes("") { CanarySplitter.stableHash($0) }, SplitMix64.mix(0xcbf2_9ce4_8422_2325))
        XCTAssertEqual(withBytes("client-1") { CanarySplitter.stableHash($0) },
                       withBytes("client-1") { CanarySplitter.stableHash($0) })
        XCTAssertNotEqual(withBytes("client-1") { CanarySplitter.stableHash($0) },
                          withBytes("client-2") { CanarySplitter.stableHash($0) })
    }

    func testMissingOrEmptyStickyValueFallsBackToRandom() {
        let splitter = CanarySplitter(percentTraffic: 50, sticky: .header("x-user"))
        XCTAssertTrue(splitter.routesToCanary(random: 0, stickyValue: nil))
        XCTAssertFalse(splitter.routesToCanary(random: .max, stickyValue: nil))
        XCTAssertTrue(withBytes("") { splitter.routesToCanary(random: 0, stickyValue: $0) })
        XCTAssertFalse(withBytes("") { splitter.routesToCanary(random: .max, stickyValue: $0) })
    }

    func testStickyValueIsIgnoredWhenTheSplitIsNotSticky() {
        let splitter = CanarySplitter(percentTraffic: 50, sticky: nil)
        for client in 0..<100 {
            withBytes("c\(client)") { value in
                XCTAssertTrue(splitter.routesToCanary(random: 0, stickyValue: value))
                XCTAssertFalse(splitter.routesToCanary(random: .max, stickyValue: value))
            }
        }
    }

    func testCookieValueIsFoundByExactName() {
        let rows: [(header: String, name: String, value: String?, why: String)] = [
            ("session=abc; theme=dark", "session", "abc", "first pair"),
            ("session=abc; theme=dark", "theme", "dark", "later pair"),
            ("session=abc;theme=dark", "theme", "dark", "no space after the semicolon"),
            ("  theme = dark", "theme", nil, "no spaces around = (RFC 6265 name=value)"),
            ("\ttheme=dark\t", "theme", "dark", "surrounding whitespace trimmed"),
            ("session=\"quoted value\"", "session", "quoted value", "double quotes removed"),
            ("session=\"", "session", "\"", "a lone quote is the value"),
            ("session=", "session", "", "empty value"),
            ("Session=abc", "session", nil, "names are case-sensitive"),
            ("xsession=abc; session=def", "session", "def", "no match inside another name"),
            ("session_id=abc", "session", nil, "a longer name is another cookie"),
            ("session=one; session=two", "session", "one", "the first of duplicates wins"),
            ("a=b=c", "a", "b=c", "the value keeps later equals signs"),
            ("", "session", nil, "empty header"),
            (";;; session=x ;", "session", "x", "empty pairs skipped"),
            ("session", "session", nil, "a name without = has no value"),
        ]
        for row in rows {
            let value: String? = withBytes(row.header) { header in
                withBytes(row.name) { name in
                    CanarySplitter.cookieValue(named: name, in: header).map { String(decoding: $0, as: UTF8.self) }
                }
            }
            XCTAssertEqual(value, row.value, row.why)
        }
    }

    func testSplitMix64IsDeterministicPerSeed() {
        var a = SplitMix64(seed: 1234567)
        var b = SplitMix64(seed: 1234567)
        var c = SplitMix64(seed: 1234568)
        let first = (0..<4).map { _ in a.next() }
        XCTAssertEqual(first, (0..<4).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<4).map { _ in c.next() })
        // Reference output of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var zero = SplitMix64(seed: 0)
        XCTAssertEqual(zero.next(), 0xe220_a839_7b1d_cdaf)
    }
}
