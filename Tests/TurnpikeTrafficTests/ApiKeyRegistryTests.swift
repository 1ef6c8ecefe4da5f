import XCTest
@testable import TurnpikeTraffic

final class ApiKeyRegistryTests: XCTestCase {
    private func registry() throws -> ApiKeyRegistry {
        try ApiKeyRegistry(keys: [
            ApiKeySpec(id: "k1", name: "Gold customer", value: "gold-value-0123456789abcdef"),
            ApiKeySpec(id: "k2", name: "Suspended", value: "suspended-value-0123456789", enabled: false),
            ApiKeySpec(id: "k3", name: "Short", value: "x"),
        ])
    }

    func testEnabledKeyIsFoundByItsValueBytes() throws {
        let record = try XCTUnwrap(try registry().lookup("gold-value-0123456789abcdef"))
        XCTAssertEqual(record.id, "k1")
        XCTAssertEqual(record.name, "Gold customer")
        XCTAssertTrue(record.enabled)
        XCTAssertEqual(record.index, 0)
    }

    func testDisabledKeyIsFoundAndSaysItIsDisabled() throws {
        let record = try XCTUnwrap(try registry().lookup("suspended-value-0123456789"))
        XCTAssertEqual(record.id, "k2")
        XCTAssertFalse(record.enabled)
    }

    func testUnknownPrefixLongerAndEmptyValuesAreNotFound() throws {
        let keys = try registry()
        XCTAssertNil(keys.lookup("unknown-value"))
        XCTAssertNil(keys.lookup("gold-value-0123456789abcde"))
        XCTAssertNil(keys.lookup("gold-value-0123456789abcdef0"))
        XCTAssertNil(keys.lookup("GOLD-VALUE-0123456789ABCDEF"))
        XCTAssertNil(keys.lookup(""))
        XCTAssertEqual(keys.lookup("x")?.id, "k3")
    }

    func testLookupWorksOnASliceOfALargerBuffer() throws {
        let keys = try registry()
        let header = Array("x-api-key: gold-value-0123456789abcdef\r\n".utf8)
        let found = header.withUnsafeBytes { raw in
            keys.lookup(UnsafeRawBufferPointer(rebasing: raw[11 ..< header.count - 2]))
        }
        XCTAssertEqual(found?.id, "k1")
    }

    func testEveryKeyOfALargeRegistryIsFound() throws {
        let specs = (0 ..< 5000).map { ApiKeySpec(id: "id\($0)", name: "n\($0)", value: "value-\($0 * 7919)") }
        let keys = try ApiKeyRegistry(keys: specs)
        for (index, spec) in specs.enumerated() {
            XCTAssertEqual(keys.lookup(spec.value)?.index, index)
        }
        XCTAssertNil(keys.lookup("value-1"))
    }

    func testRecordByIdFindsTheConfiguredKey() throws {
        XCTAssertEqual(try registry().record(id: "k2")?.name, "Suspended")
        XCTAssertNil(try registry().record(id: "nope"))
    }

    func testDuplicateValuesIdsAndEmptyValuesAreConfigurationErrors() {
        XCTAssertThrowsError(try ApiKeyRegistry(keys: [
            ApiKeySpec(id: "a", name: "a", value: "same"), ApiKeySpec(id: "b", name: "b", value: "same"),
        ])) { XCTAssertEqual($0 as? TrafficConfigError, .duplicateApiKeyValue(keyId: "b", otherKeyId: "a")) }
        XCTAssertThrowsError(try ApiKeyRegistry(keys: [
            ApiKeySpec(id: "a", name: "a", value: "v1"), ApiKeySpec(id: "a", name: "b", value: "v2"),
        ])) { XCTAssertEqual($0 as? TrafficConfigError, .duplicateApiKeyId("a")) }
        XCTAssertThrowsError(try ApiKeyRegistry(keys: [ApiKeySpec(id: "a", name: "a", value: "")])) {
            XCTAssertEqual($0 as? TrafficConfigError, .emptyApiKeyValue(keyId: "a"))
        }
    }

    func testEmptyRegistryFindsNothing() throws {
        XCTAssertNil(try ApiKeyRegistry(keys: []).lookup("anything"))
    }
}
