import XCTest
import TurnpikeRouting

final class ApiSelectorTests: XCTestCase {
    // API 0 has named stages and a $default stage, API 1 only named stages.
    private let apis = [
        ApiSelector.Api(apiId: "a1b2c3d4", stageNames: ["prod", "$default", "beta"]),
        ApiSelector.Api(apiId: "zz99yy88", stageNames: ["v1", "v2"]),
    ]

    private func selector(domains: [ApiSelector.Domain] = [], fallback: Int? = nil) throws -> ApiSelector {
        try ApiSelector(apis: apis, domains: domains, fallbackApiIndex: fallback)
    }

    private func selected(_ api: Int, _ stage: Int, _ pathStart: Int, domain: Int? = nil) -> ApiSelection {
        .selected(SelectedApi(apiIndex: api, stageIndex: stage, pathStart: pathStart, domainIndex: domain))
    }

    // MARK: execute-api hosts

    func testExecuteApiHostWithStageSegmentSelectsStageAndStripsIt() throws {
        let s = try selector()
        XCTAssertEqual(s.select(host: "a1b2c3d4.execute-api.us-east-1.amazonaws.com", path: "/prod/pets"),
                       selected(0, 0, 5))
        XCTAssertEqual(s.select(host: "a1b2c3d4.execute-api.us-east-1.amazonaws.com", path: "/beta/pets/1"),
                       selected(0, 2, 5))
    }

    func testExecuteApiHostWithPortSelectsApi() throws {
        let s = try selector()
        XCTAssertEqual(s.select(host: "a1b2c3d4.execute-api.localhost:8080", path: "/prod"), selected(0, 0, 5))
    }

    func testExecuteApiHostIsCaseInsensitive() throws {
        let s = try selector()
        XCTAssertEqual(s.select(host: "A1B2C3D4.Execute-API.localhost", path: "/prod/x"), selected(0, 0, 5))
    }

    func testUnknownStageSegmentUsesDefaultStageWithPathUnchanged() throws {
        let s = try selector()
        XCTAssertEqual(s.select(host: "a1b2c3d4.execute-api.localhost", path: "/pets/1"), selected(0, 1, 0))
        XCTAssertEqual(s.select(host: "a1b2c3d4.execute-api.localhost", path: "/"), selected(0, 1, 0))
    }

    func testStageSegmentIsCaseSensitiveAndWhole() throws {
        let s = try selector()
        XCTAssertEqual(s.select(host: "a1b2c3d4.execute-api.localhost", path: "/PROD/x"), selected(0, 1, 0))
        XCTAssertEqual(s.select(host: "a1b2c3d4.execute-api.localhost", path: "/production"), selected(0, 1, 0))
    }

    func testDefaultStageNameIsNotAPathSegment() throws {
        let s = try selector()
        XCTAssertEqual(s.select(host: "a1b2c3d4.execute-api.localhost", path: "/$default/x"), selected(0, 1, 0))
    }

    func testNoMatchingStageAndNoDefaultStageIsNoStage() throws {
        let s = try selector()
        XCTAssertEqual(s.select(host: "zz99yy88.execute-api.localhost", path: "/v3/x"), .noStage(apiIndex: 1))
        XCTAssertEqual(s.select(host: "zz99yy88.execute-api.localhost", path: "/"), .noStage(apiIndex: 1))
        XCTAssertEqual(s.select(host: "zz99yy88.execute-api.localhost", path: "/v2"), selected(1, 1, 3))
    }

    func testUnknownApiIdIsNoApi() throws {
        let s = try selector()
        XCTAssertEqual(s.select(host: "nope1234.execute-api.localhost", path: "/prod"), .noApi)
    }

    func testExecuteApiNeedsSomethingAfterIt() throws {
        let s = try selector()
        XCTAssertEqual(s.select(host: "a1b2c3d4.execute-api", path: "/prod"), .noApi)
        XCTAssertEqual(s.select(host: "a1b2c3d4.execute-api.", path: "/prod"), .noApi)
        XCTAssertEqual(s.select(host: "x.a1b2c3d4.execute-api.localhost", path: "/prod"), .noApi)
    }

    func testUnknownHostIsNoApi() throws {
        let s = try selector()
        XCTAssertEqual(s.select(host: "example.org", path: "/prod"), .noApi)
        XCTAssertEqual(s.select(host: "", path: "/prod"), .noApi)
    }

    // MARK: custom domains

    private let ordersDomain = ApiSelector.Domain(domainName: "API.Example.com", mappings: [
        .init(apiMappingKey: "", apiIndex: 0, stageIndex: 0),
        .init(apiMappingKey: "orders", apiIndex: 1, stageIndex: 0),
        .init(apiMappingKey: "orders/v2/items", apiIndex: 1, stageIndex: 1),
        .init(apiMappingKey: "orders/v2/items/categories", apiIndex: 0, stageIndex: 2),
    ])

    func testCustomDomainLongestMappingWinsAndIsStripped() throws {
        let s = try selector(domains: [ordersDomain])
        XCTAssertEqual(s.select(host: "api.example.com", path: "/orders/v2/items/categories/5"), selected(0, 2, 27, domain: 0))
        XCTAssertEqual(s.select(host: "api.example.com", path: "/orders/v2/items/123"), selected(1, 1, 16, domain: 0))
        XCTAssertEqual(s.select(host: "api.example.com", path: "/orders/v1/items"), selected(1, 0, 7, domain: 0))
    }

    func testCustomDomainExactMappingLeavesEmptyPath() throws {
        let s = try selector(domains: [ordersDomain])
        XCTAssertEqual(s.select(host: "api.example.com", path: "/orders/v2/items"), selected(1, 1, 16, domain: 0))
        XCTAssertEqual(s.select(host: "api.example.com", path: "/orders"), selected(1, 0, 7, domain: 0))
    }

    func testCustomDomainMappingMatchesWholeSegmentsOnly() throws {
        let s = try selector(domains: [ordersDomain])
        XCTAssertEqual(s.select(host: "api.example.com", path: "/ordersx/1"), selected(0, 0, 0, domain: 0))
        XCTAssertEqual(s.select(host: "api.example.com", path: "/orders/v2/itemsx"), selected(1, 0, 7, domain: 0))
    }

    func testCustomDomainRootMappingCatchesUnmappedPaths() throws {
        let s = try selector(domains: [ordersDomain])
        XCTAssertEqual(s.select(host: "api.example.com", path: "/customers"), selected(0, 0, 0, domain: 0))
        XCTAssertEqual(s.select(host: "api.example.com", path: "/"), selected(0, 0, 0, domain: 0))
    }

    func testCustomDomainMappingIsCaseSensitive() throws {
        let s = try selector(domains: [ordersDomain])
        XCTAssertEqual(s.select(host: "api.example.com", path: "/Orders/1"), selected(0, 0, 0, domain: 0))
    }

    func testCustomDomainHostIsCaseInsensitiveAndIgnoresPortAndTrailingDot() throws {
        let s = try selector(domains: [ordersDomain])
        XCTAssertEqual(s.select(host: "API.EXAMPLE.COM:443", path: "/orders"), selected(1, 0, 7, domain: 0))
        XCTAssertEqual(s.select(host: "api.example.com.", path: "/orders"), selected(1, 0, 7, domain: 0))
    }

    func testCustomDomainWithoutMatchingMappingIsNoMapping() throws {
        let domain = ApiSelector.Domain(domainName: "v.example.com", mappings: [
            .init(apiMappingKey: "v1", apiIndex: 1, stageIndex: 0),
        ])
        let s = try selector(domains: [domain], fallback: 0)
        XCTAssertEqual(s.select(host: "v.example.com", path: "/v2/pets"), .noMapping(domainIndex: 0))
        XCTAssertEqual(s.select(host: "v.example.com", path: "/v1/pets"), selected(1, 0, 3, domain: 0))
    }

    func testCustomDomainMappingDoesNotApplyStageSegmentRule() throws {
        let domain = ApiSelector.Domain(domainName: "api.example.com", mappings: [
            .init(apiMappingKey: "", apiIndex: 0, stageIndex: 2),
        ])
        let s = try selector(domains: [domain])
        XCTAssertEqual(s.select(host: "api.example.com", path: "/prod/pets"), selected(0, 2, 0, domain: 0))
    }

    func testWildcardDomainMatchesOneLabel() throws {
        let wildcard = ApiSelector.Domain(domainName: "*.example.com", mappings: [
            .init(apiMappingKey: "", apiIndex: 1, stageIndex: 0),
        ])
        let s = try selector(domains: [wildcard])
        XCTAssertEqual(s.select(host: "tenant1.example.com", path: "/x"), selected(1, 0, 0, domain: 0))
        XCTAssertEqual(s.select(host: "Tenant2.EXAMPLE.com:8443", path: "/x"), selected(1, 0, 0, domain: 0))
        XCTAssertEqual(s.select(host: "a.b.example.com", path: "/x"), .noApi)
        XCTAssertEqual(s.select(host: "example.com", path: "/x"), .noApi)
        XCTAssertEqual(s.select(host: ".example.com", path: "/x"), .noApi)
    }

    func testExactDomainBeatsWildcardDomain() throws {
        let wildcard = ApiSelector.Domain(domainName: "*.example.com", mappings: [
            .init(apiMappingKey: "", apiIndex: 1, stageIndex: 0),
        ])
        let s = try selector(domains: [wildcard, ordersDomain])
        XCTAssertEqual(s.select(host: "api.example.com", path: "/orders"), selected(1, 0, 7, domain: 1))
        XCTAssertEqual(s.select(host: "web.example.com", path: "/orders"), selected(1, 0, 0, domain: 0))
    }

    // MARK: fallback API

    func testFallbackApiServesUnknownHostsWithStageRule() throws {
        let s = try selector(fallback: 0)
        XCTAssertEqual(s.select(host: "localhost:3000", path: "/beta/pets"), selected(0, 2, 5))
        XCTAssertEqual(s.select(host: "localhost:3000", path: "/pets"), selected(0, 1, 0))
        XCTAssertEqual(s.select(host: "nope1234.execute-api.localhost", path: "/pets"), selected(0, 1, 0))
    }

    func testFallbackApiWithoutDefaultStageCanBeNoStage() throws {
        let s = try selector(fallback: 1)
        XCTAssertEqual(s.select(host: "127.0.0.1", path: "/pets"), .noStage(apiIndex: 1))
        XCTAssertEqual(s.select(host: "[::1]:8080", path: "/v1/pets"), selected(1, 0, 3))
    }

    func testKnownExecuteApiHostIsNotOverriddenByFallback() throws {
        let s = try selector(fallback: 0)
        XCTAssertEqual(s.select(host: "zz99yy88.execute-api.localhost", path: "/v3"), .noStage(apiIndex: 1))
    }

    // MARK: byte input

    func testSelectsFromRawByteBuffers() throws {
        let s = try selector()
        let host = Array("a1b2c3d4.execute-api.localhost:9000".utf8)
        let path = Array("/prod/pets".utf8)
        let result = host.withUnsafeBytes { h in path.withUnsafeBytes { p in s.select(host: h, path: p) } }
        XCTAssertEqual(result, selected(0, 0, 5))
    }

    // MARK: configuration errors

    func testDuplicateApiIdIsRejected() {
        XCTAssertThrowsError(try ApiSelector(apis: [.init(apiId: "abc", stageNames: []), .init(apiId: "ABC", stageNames: [])],
                                             domains: [])) { error in
            XCTAssertEqual(error as? ApiSelectorError, .duplicateApiId("ABC"))
        }
    }

    func testDuplicateMappingKeyIsRejected() {
        let domain = ApiSelector.Domain(domainName: "api.example.com", mappings: [
            .init(apiMappingKey: "v1", apiIndex: 0, stageIndex: 0),
            .init(apiMappingKey: "v1", apiIndex: 1, stageIndex: 0),
        ])
        XCTAssertThrowsError(try selector(domains: [domain])) { error in
            XCTAssertEqual(error as? ApiSelectorError, .duplicateMappingKey(domain: "api.example.com", key: "v1"))
        }
    }

    func testMappingKeyWithSlashAtEitherEndIsRejected() {
        for key in ["/v1", "v1/", "a//b"] {
            let domain = ApiSelector.Domain(domainName: "api.example.com", mappings: [
                .init(apiMappingKey: key, apiIndex: 0, stageIndex: 0),
            ])
            XCTAssertThrowsError(try selector(domains: [domain]), key) { error in
                XCTAssertEqual(error as? ApiSelectorError, .invalidMappingKey(domain: "api.example.com", key: key))
            }
        }
    }

    func testMappingToMissingStageIsRejected() {
        let domain = ApiSelector.Domain(domainName: "api.example.com", mappings: [
            .init(apiMappingKey: "", apiIndex: 1, stageIndex: 5),
        ])
        XCTAssertThrowsError(try selector(domains: [domain])) { error in
            XCTAssertEqual(error as? ApiSelectorError, .mappingTargetOutOfRange(domain: "api.example.com", key: ""))
        }
    }

    func testDuplicateDomainNameIsRejectedCaseInsensitively() {
        let a = ApiSelector.Domain(domainName: "api.example.com", mappings: [])
        let b = ApiSelector.Domain(domainName: "API.example.com.", mappings: [])
        XCTAssertThrowsError(try selector(domains: [a, b])) { error in
            XCTAssertEqual(error as? ApiSelectorError, .duplicateDomainName("API.example.com."))
        }
    }

    func testWildcardOnlyAsFirstLabelIsAccepted() {
        XCTAssertThrowsError(try selector(domains: [.init(domainName: "api.*.com", mappings: [])])) { error in
            XCTAssertEqual(error as? ApiSelectorError, .invalidDomainName("api.*.com"))
        }
    }

    func testFallbackApiOutOfRangeIsRejected() {
        XCTAssertThrowsError(try selector(fallback: 2)) { error in
            XCTAssertEqual(error as? ApiSelectorError, .fallbackApiOutOfRange(2))
            XCTAssertEqual((error as? ApiSelectorError)?.message, "fallback API index 2 does not exist")
        }
    }

    func testHasDefaultStageReflectsStageNames() {
        XCTAssertTrue(apis[0].hasDefaultStage)
        XCTAssertFalse(apis[1].hasDefaultStage)
    }
}
