import XCTest
import TurnpikeCors

final class CorsConfigErrorTests: XCTestCase {
    private func error(_ spec: CorsSpec) -> CorsConfigError? {
        do {
            _ = try CorsPolicy(spec)
            return nil
        } catch {
            return error
        }
    }

    func testWildcardOriginWithCredentialsIsRefusedWithAWSMessage() {
        let refused = error(CorsSpec(allowOrigins: ["https://a.test", "*"], allowCredentials: true))
        XCTAssertEqual(refused, .wildcardOriginWithCredentials)
        XCTAssertEqual(refused?.status, 400)
        XCTAssertEqual(refused?.message, "allow-credentials is not supported if 'allow-origin' is *")
    }

    func testWildcardOriginWithoutCredentialsIsAccepted() {
        XCTAssertNil(error(CorsSpec(allowOrigins: ["*"])))
    }

    func testSchemeAndSubdomainWildcardsAreAcceptedWithCredentials() {
        // API Gateway's refusal names only `*`; these patterns still answer with the echoed origin.
        XCTAssertNil(error(CorsSpec(allowOrigins: ["https://*", "https://*.example.com"], allowCredentials: true)))
    }

    func testMalformedOriginsAreRefused() {
        let origins = [
            "", "example.com", "*.example.com", "https://", "https://example.com/", "https://example.com/path",
            "https://example.com?q", "https://user@example.com", "https://exa mple.com", "https://example.com.",
            "https://*example.com", "https://a.*.example.com", "https://*.", "https://*.*.example.com",
            "https://example.com:", "https://example.com:65536", "https://example.com:80a", "https://example.com:123456",
            "https://[::1", "https://[zz]", "https://*.[::1]", "1https://a.test", "://a.test", "https//a.test", " https://a.test",
        ]
        for origin in origins {
            XCTAssertEqual(error(CorsSpec(allowOrigins: [origin])), .invalidOrigin(origin), origin)
        }
        XCTAssertEqual(CorsConfigError.invalidOrigin("x").message,
                       "invalid origin \"x\" in allowOrigins: expected *, scheme://host[:port], scheme://* or scheme://*.domain[:port]")
    }

    func testWellFormedOriginsAreAccepted() {
        let origins = [
            "https://a.test", "http://localhost:3000", "http://127.0.0.1:5500", "https://[::1]:8443", "https://[::1]",
            "chrome-extension://abcdefghijklmnop", "capacitor://localhost", "https://*", "http://*",
            "https://*.example.com", "http://*.dev.test:8080", "null", "HTTPS://UPPER.TEST", "https://a_b.test:65535",
        ]
        for origin in origins {
            XCTAssertNil(error(CorsSpec(allowOrigins: [origin])), origin)
        }
    }

    func testMalformedMethodsAreRefused() {
        for method in ["", "GE T", "GET,POST", String(repeating: "X", count: 65)] {
            XCTAssertEqual(error(CorsSpec(allowOrigins: ["*"], allowMethods: [method])), .invalidMethod(method), method)
        }
        XCTAssertNil(error(CorsSpec(allowOrigins: ["*"], allowMethods: ["*", "PURGE", String(repeating: "X", count: 64)])))
    }

    func testMalformedHeaderNamesAreRefusedInAllowAndExposeLists() {
        for name in ["", "x api", "x-ok:", "a,b"] {
            XCTAssertEqual(error(CorsSpec(allowOrigins: ["*"], allowHeaders: [name])), .invalidHeaderName(name), name)
            XCTAssertEqual(error(CorsSpec(allowOrigins: ["*"], exposeHeaders: [name])), .invalidHeaderName(name), name)
        }
    }

    func testMaxAgeMustLieBetweenMinusOneAndOneDay() {
        XCTAssertEqual(error(CorsSpec(allowOrigins: ["*"], maxAge: -2)), .maxAgeOutOfRange(-2))
        XCTAssertEqual(error(CorsSpec(allowOrigins: ["*"], maxAge: 86401)), .maxAgeOutOfRange(86401))
        XCTAssertNil(error(CorsSpec(allowOrigins: ["*"], maxAge: -1)))
        XCTAssertNil(error(CorsSpec(allowOrigins: ["*"], maxAge: 86400)))
    }
}
