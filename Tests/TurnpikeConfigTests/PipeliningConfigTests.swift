import XCTest
import TurnpikeConfig

/// A target group's `pipelineDepth` (extension): HTTP/1.1 pipelining toward its endpoints.
final class PipeliningConfigTests: XCTestCase {
    func testPipelineDepthIsOffByDefaultAndReadPerGroup() throws {
        let config = try XCTUnwrap(parsed(upstreamConfig(uri: "http://a/{proxy}", groups: """
              - { name: a, endpoints: ["127.0.0.1:9001"] }
              - { name: b, endpoints: ["127.0.0.1:9002"], pipelineDepth: 8 }
              - { name: c, endpoints: ["127.0.0.1:9003"], pipelineDepth: 64 }
            """)))
        XCTAssertEqual(config.targetGroups.map(\.pipelineDepth), [0, 8, 64])
    }

    func testPipelineDepthOutOfRangeOrOnAnHttpsGroupIsAnIssue() {
        let lines = issueLines(upstreamConfig(uri: "http://a/{proxy}", groups: """
              - { name: a, endpoints: ["127.0.0.1:9001"], pipelineDepth: 65 }
              - { name: b, endpoints: ["127.0.0.1:9002"], pipelineDepth: -1 }
              - { name: c, protocol: HTTPS, endpoints: ["127.0.0.1:9003"], pipelineDepth: 4 }
            """))
        XCTAssertEqual(lines.count, 3, lines.joined(separator: "\n"))
        XCTAssertTrue(lines[0].contains("targetGroups[0].pipelineDepth"), lines[0])
        XCTAssertTrue(lines[1].contains("targetGroups[1].pipelineDepth"), lines[1])
        XCTAssertTrue(lines[2].hasSuffix(
            "targetGroups[2].pipelineDepth: HTTP/1.1 pipelining applies to HTTP target groups only; an HTTPS group sends one request per connection at a time, or many as HTTP/2 streams with http2: true"),
            lines[2])
    }

    func testAnHttpsGroupMayStateDepthZeroOrOne() throws {
        let config = try XCTUnwrap(parsed(upstreamConfig(uri: "https://c/{proxy}", groups: """
              - { name: c, protocol: HTTPS, endpoints: ["127.0.0.1:9003"], pipelineDepth: 1 }
            """)))
        XCTAssertEqual(config.targetGroups[0].pipelineDepth, 1)
    }
}

/// A target group's `http2` (extension): h2c toward its endpoints.
final class UpstreamHTTP2ConfigTests: XCTestCase {
    func testHttp2IsOffByDefaultAndAllowsUpToAThousandStreamsPerConnection() throws {
        let config = try XCTUnwrap(parsed(upstreamConfig(uri: "http://a/{proxy}", groups: """
              - { name: a, endpoints: ["127.0.0.1:9001"] }
              - { name: b, endpoints: ["127.0.0.1:9002"], http2: true }
              - { name: c, endpoints: ["127.0.0.1:9003"], http2: true, pipelineDepth: 1000 }
            """)))
        XCTAssertEqual(config.targetGroups.map(\.http2), [false, true, true])
        XCTAssertEqual(config.targetGroups.map(\.pipelineDepth), [0, 0, 1000])
    }

    func testHttp2IsAllowedOnAnHttpsGroupAndLiftsItsPipeliningRefusal() throws {
        let config = try XCTUnwrap(parsed(upstreamConfig(uri: "https://c/{proxy}", groups: """
              - { name: c, protocol: HTTPS, endpoints: ["127.0.0.1:9003"], http2: true, pipelineDepth: 50 }
            """)))
        XCTAssertEqual(config.targetGroups[0].http2, true)
        XCTAssertTrue(config.targetGroups[0].isHTTPS)
        XCTAssertEqual(config.targetGroups[0].pipelineDepth, 50)
    }
}
