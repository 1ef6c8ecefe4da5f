import Foundation
import XCTest
@testable import TurnpikeAuth

/// The committed test-only fixtures (see Fixtures/README.md).
enum Fixture {
    private static let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    static func data(_ name: String) -> Data { try! Data(contentsOf: root.appendingPathComponent(name)) }

    private struct Document: Decodable {
        let issuer: String
        let audience: String
        let now: Int64
        let tokens: [String: String]
    }

    private static let document = try! JSONDecoder().decode(Document.self, from: data("test-only-tokens.json"))

    static let issuer = document.issuer
    static let audience = document.audience
    static let now = document.now
    private static let tokens = document.tokens

    static func token(_ name: String) -> String {
        guard let t = tokens[name] else { fatalError("no fixture token \(name)") }
        return t
    }

    static func spec(_ source: JWKSSource, audiences: [String]? = nil) -> JWTAuthorizerSpec {
        JWTAuthorizerSpec(name: "test", issuer: issuer, audiences: audiences ?? [audience], jwksSource: source)
    }

    static func fileAuthorizer(_ jwks: String = "test-only-jwks.json") -> JWTAuthorizer {
        try! JWTAuthorizer(spec: spec(.file(path: path(jwks))))
    }
}

extension JWTAuthorizer {
    func verify(_ token: String, now: Int64 = Fixture.now) -> Result<VerifiedToken, JWTFailure> {
        var bytes = Array(token.utf8)
        return bytes.withUnsafeMutableBytes { verify(token: UnsafeRawBufferPointer($0), nowSeconds: now) }
    }

    func authorize(_ token: String, scopes: [String] = [], now: Int64 = Fixture.now,
                   cache: inout TokenCache) -> JWTDecision {
        Array(token.utf8).withUnsafeBytes { authorize(token: $0, requiredScopes: scopes, nowSeconds: now, cache: &cache) }
    }

    var checks: Int { signatureChecks.load(ordering: .relaxed) }
}

func XCTAssertRefused(_ result: Result<VerifiedToken, JWTFailure>, _ expected: JWTFailure,
                      file: StaticString = #filePath, line: UInt = #line) {
    switch result {
    case .success: XCTFail("accepted; expected \(expected)", file: file, line: line)
    case .failure(let f): XCTAssertEqual(f, expected, file: file, line: line)
    }
}

@discardableResult
func XCTAssertAccepted(_ result: Result<VerifiedToken, JWTFailure>,
                       file: StaticString = #filePath, line: UInt = #line) -> VerifiedToken? {
    switch result {
    case .success(let t): return t
    case .failure(let f):
        XCTFail("refused: \(f)", file: file, line: line)
        return nil
    }
}
