import TurnpikeCache
import XCTest

final class CacheKeyTests: XCTestCase {
    private func key(
        method: String = "GET", shape: CacheKeyShape, values: [String?]
    ) -> CacheKey {
        var builder = CacheKeyBuilder()
        builder.begin(method: method, shape: shape)
        for value in values { builder.appendValue(value) }
        return builder.finish()
    }

    private let petShape = CacheKeyShape(
        resourcePath: "/pets/{id}",
        parameters: [CacheKeyParameter(.pathParameter, name: "id"), CacheKeyParameter(.queryString, name: "color")])

    func testSameInputsGiveEqualKeysWithEqualDigests() {
        let a = key(shape: petShape, values: ["7", "red"])
        let b = key(shape: petShape, values: ["7", "red"])
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.digest, b.digest)
    }

    func testConfiguredParameterOrderDoesNotChangeTheKey() {
        let header = CacheKeyParameter(.header, name: "x-tenant")
        let query = CacheKeyParameter(.queryString, name: "color")
        let path = CacheKeyParameter(.pathParameter, name: "id")
        let one = CacheKeyShape(resourcePath: "/pets/{id}", parameters: [header, query, path])
        let other = CacheKeyShape(resourcePath: "/pets/{id}", parameters: [path, header, query])
        XCTAssertEqual(one, other)
        XCTAssertEqual(one.parameters, [path, query, header])
        XCTAssertEqual(key(shape: one, values: ["7", "red", "acme"]), key(shape: other, values: ["7", "red", "acme"]))
    }

    func testValuesAreBoundToParametersInCanonicalOrder() {
        let shape = CacheKeyShape(
            resourcePath: "/r",
            parameters: [CacheKeyParameter(.queryString, name: "b"), CacheKeyParameter(.queryString, name: "a")])
        XCTAssertEqual(shape.parameters.map { String(decoding: $0.name, as: UTF8.self) }, ["a", "b"])
        XCTAssertNotEqual(key(shape: shape, values: ["1", "2"]), key(shape: shape, values: ["2", "1"]))
    }

    func testHeaderNamesCompareCaseInsensitively() {
        let upper = CacheKeyShape(resourcePath: "/r", parameters: [CacheKeyParameter(.header, name: "X-Tenant-Id")])
        let lower = CacheKeyShape(resourcePath: "/r", parameters: [CacheKeyParameter(.header, name: "x-tenant-id")])
        XCTAssertEqual(upper, lower)
        XCTAssertEqual(key(shape: upper, values: ["acme"]), key(shape: lower, values: ["acme"]))
    }

    func testDuplicateParametersCollapseToOne() {
        let shape = CacheKeyShape(
            resourcePath: "/r",
            parameters: [CacheKeyParameter(.header, name: "Accept"), CacheKeyParameter(.header, name: "accept")])
        XCTAssertEqual(shape.parameters, [CacheKeyParameter(.header, name: "accept")])
    }

    func testQueryStringAndPathParameterNamesAreCaseSensitive() {
        let lower = CacheKeyShape(resourcePath: "/r", parameters: [CacheKeyParameter(.queryString, name: "color")])
        let upper = CacheKeyShape(resourcePath: "/r", parameters: [CacheKeyParameter(.queryString, name: "Color")])
        XCTAssertNotEqual(key(shape: lower, values: ["red"]), key(shape: upper, values: ["red"]))
        let path = CacheKeyShape(resourcePath: "/r", parameters: [CacheKeyParameter(.pathParameter, name: "Id")])
        XCTAssertEqual(path.parameters[0].name, Array("Id".utf8))
    }

    func testHeaderValuesAreCaseSensitive() {
        let shape = CacheKeyShape(resourcePath: "/r", parameters: [CacheKeyParameter(.header, name: "accept")])
        XCTAssertNotEqual(key(shape: shape, values: ["Text/HTML"]), key(shape: shape, values: ["text/html"]))
    }

    func testAbsentAndEmptyValuesGiveDifferentKeys() {
        XCTAssertNotEqual(key(shape: petShape, values: ["7", nil]), key(shape: petShape, values: ["7", ""]))
    }

    func testValuesNotAppendedCountAsAbsent() {
        XCTAssertEqual(key(shape: petShape, values: ["7"]), key(shape: petShape, values: ["7", nil]))
        XCTAssertEqual(key(shape: petShape, values: []), key(shape: petShape, values: [nil, nil]))
    }

    func testValuesBeyondTheShapeAreIgnored() {
        XCTAssertEqual(key(shape: petShape, values: ["7", "red", "extra"]), key(shape: petShape, values: ["7", "red"]))
    }

    func testMethodAndResourcePathArePartOfTheKey() {
        let other = CacheKeyShape(resourcePath: "/pets/{petId}", parameters: petShape.parameters)
        XCTAssertNotEqual(key(method: "GET", shape: petShape, values: ["7", "red"]),
                          key(method: "HEAD", shape: petShape, values: ["7", "red"]))
        XCTAssertNotEqual(key(shape: petShape, values: ["7", "red"]), key(shape: other, values: ["7", "red"]))
    }

    func testSameNameUnderDifferentKindsGivesDifferentKeys() {
        let asQuery = CacheKeyShape(resourcePath: "/r", parameters: [CacheKeyParameter(.queryString, name: "id")])
        let asHeader = CacheKeyShape(resourcePath: "/r", parameters: [CacheKeyParameter(.header, name: "id")])
        let asPath = CacheKeyShape(resourcePath: "/r", parameters: [CacheKeyParameter(.pathParameter, name: "id")])
        let keys = Set([asQuery, asHeader, asPath].map { key(shape: $0, values: ["1"]) })
        XCTAssertEqual(keys.count, 3)
    }

    func testShiftingBytesBetweenPartsNeverCollides() {
        let two = CacheKeyShape(
            resourcePath: "/r",
            parameters: [CacheKeyParameter(.queryString, name: "a"), CacheKeyParameter(.queryString, name: "b")])
        XCTAssertNotEqual(key(shape: two, values: ["xy", "z"]), key(shape: two, values: ["x", "yz"]))
        XCTAssertNotEqual(key(shape: two, values: ["", "z"]), key(shape: two, values: [nil, "z"]))
        let slash = CacheKeyShape(resourcePath: "/a", parameters: [])
        let noSlash = CacheKeyShape(resourcePath: "a", parameters: [])
        XCTAssertNotEqual(key(method: "GET", shape: slash, values: []), key(method: "GET/", shape: noSlash, values: []))
    }

    func testDistinctInputsOverAnAlphabetNeverCollide() {
        let two = CacheKeyShape(
            resourcePath: "/r",
            parameters: [CacheKeyParameter(.queryString, name: "a"), CacheKeyParameter(.header, name: "b")])
        let pieces: [String?] = [nil, "", "a", "b", "ab", "ba", "a\u{0}", "\u{1}a", "\u{2}", "aa"]
        var seen: [CacheKey: String] = [:]
        for method in ["GET", "GE", "GETa"] {
            for first in pieces {
                for second in pieces {
                    let k = key(method: method, shape: two, values: [first, second])
                    let label = "\(method) \(String(describing: first)) \(String(describing: second))"
                    XCTAssertNil(seen[k], "\(label) collides with \(seen[k] ?? "")")
                    seen[k] = label
                }
            }
        }
        XCTAssertEqual(seen.count, 3 * pieces.count * pieces.count)
    }

    func testByteAndStringInputsBuildTheSameKey() {
        var builder = CacheKeyBuilder()
        let method = Array("GET".utf8)
        let value = Array("7".utf8)
        method.withUnsafeBytes { builder.begin(method: $0, shape: petShape) }
        value.withUnsafeBytes { builder.appendValue($0) }
        builder.appendValue(nil as UnsafeRawBufferPointer?)
        XCTAssertEqual(builder.finish(), key(shape: petShape, values: ["7", nil]))
    }

    func testReusedBuilderLeavesNothingOfThePreviousKey() {
        var builder = CacheKeyBuilder(reservingCapacity: 8)
        builder.begin(method: "GET", shape: petShape)
        builder.appendValue(String(repeating: "long", count: 100))
        builder.appendValue("red")
        let first = builder.finish()
        builder.begin(method: "GET", shape: petShape)
        builder.appendValue("7")
        let second = builder.finish()
        XCTAssertEqual(second, key(shape: petShape, values: ["7", nil]))
        XCTAssertEqual(first, key(shape: petShape, values: [String(repeating: "long", count: 100), "red"]))
    }

    func testLongValuesUseMultiByteLengthPrefixes() {
        let shape = CacheKeyShape(resourcePath: "/r", parameters: [CacheKeyParameter(.header, name: "h")])
        let a = key(shape: shape, values: [String(repeating: "a", count: 300)])
        let b = key(shape: shape, values: [String(repeating: "a", count: 301)])
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(b.bytes.count - a.bytes.count, 1)
    }
}
