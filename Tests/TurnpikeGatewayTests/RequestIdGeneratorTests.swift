import XCTest
import TurnpikeGateway

final class RequestIdGeneratorTests: XCTestCase {
    private let base64Alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    func testIdIsSixteenBase64CharactersEndingInOnePaddingCharacter() {
        var generator = RequestIdGenerator(worker: 3, salt: 0x1234_5678_9abc)
        for seconds: UInt64 in [0, 1_795_700_552, UInt64(UInt32.max)] {
            let id = generator.next(epochSeconds: seconds).string
            XCTAssertEqual(id.count, 16, id)
            XCTAssertEqual(id.last, "=", id)
            XCTAssertTrue(id.dropLast().allSatisfy(base64Alphabet.contains), id)
        }
    }

    func testIdIsBase64OfTimeWorkerAndCounter() {
        var generator = RequestIdGenerator(worker: 5, salt: 0)
        XCTAssertEqual(generator.next(epochSeconds: 0x0102_0304).string, "AQIDBAUAAAAAAAE=")
        XCTAssertEqual(generator.next(epochSeconds: 0x0102_0304).string, "AQIDBAUAAAAAAAI=")
    }

    func testSaltedCounterWrapsWithinFortyEightBits() {
        var generator = RequestIdGenerator(worker: 255, salt: 0xFFFF_FFFF_FFFF)
        XCTAssertEqual(generator.next(epochSeconds: 0x0102_0304).string, "AQIDBP8AAAAAAAA=")
    }

    func testAppendWritesTheSameSixteenBytes() {
        var generator = RequestIdGenerator(worker: 1, salt: 42)
        let id = generator.next(epochSeconds: 1_795_700_552)
        var out: [UInt8] = Array("id=".utf8)
        id.append(to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "id=" + id.string)
    }

    func testIdsAreUniqueOverOneHundredThousandInOneSecond() {
        var generator = RequestIdGenerator(worker: 0, salt: 987_654_321)
        var seen = Set<String>()
        for _ in 0..<100_000 {
            seen.insert(generator.next(epochSeconds: 1_795_700_552).string)
        }
        XCTAssertEqual(seen.count, 100_000)
    }

    func testWorkersWithTheSameSaltMakeDifferentIds() {
        var a = RequestIdGenerator(worker: 0, salt: 7)
        var b = RequestIdGenerator(worker: 1, salt: 7)
        XCTAssertNotEqual(a.next(epochSeconds: 100), b.next(epochSeconds: 100))
    }
}
