import XCTest
import TurnpikeConfig
import TurnpikeGateway

private func record(
    routeKey: String = "GET /pets/{petId}", integrationLatencyMs: Int? = 3, integrationStatus: Int? = 200,
    integrationError: String? = nil
) -> AccessLogRecord {
    AccessLogRecord(
        requestId: "JXkbXhJZIAMEVhQ=", ip: "203.0.113.7", requestTimeEpochMs: fixedEpochMs, httpMethod: "GET",
        path: "/prod/pets/7", routeKey: routeKey, status: 200, protocolName: "HTTP/1.1", responseLength: 42,
        integrationLatencyMs: integrationLatencyMs, responseLatencyMs: 5, integrationStatus: integrationStatus,
        apiId: "shop1", stage: "prod", domainName: "api.example.com", integrationError: integrationError)
}

final class AccessLogFormatterTests: XCTestCase {
    func testDefaultFormatIsOneJsonObjectOfContextNames() {
        XCTAssertEqual(
            AccessLogFormatter.line(record(), format: nil),
            #"{"requestId":"JXkbXhJZIAMEVhQ=","ip":"203.0.113.7","requestTime":"26/Nov/2026:13:42:32 +0000","#
                + #""httpMethod":"GET","routeKey":"GET /pets/{petId}","status":200,"protocol":"HTTP/1.1","#
                + #""responseLength":42,"integrationLatency":3,"responseLatency":5,"integrationStatus":200}"#)
    }

    func testDefaultFormatWritesNullWithoutIntegrationCall() {
        XCTAssertEqual(
            AccessLogFormatter.line(record(integrationLatencyMs: nil, integrationStatus: nil), format: nil),
            #"{"requestId":"JXkbXhJZIAMEVhQ=","ip":"203.0.113.7","requestTime":"26/Nov/2026:13:42:32 +0000","#
                + #""httpMethod":"GET","routeKey":"GET /pets/{petId}","status":200,"protocol":"HTTP/1.1","#
                + #""responseLength":42,"integrationLatency":null,"responseLatency":5,"integrationStatus":null}"#)
    }

    func testDefaultFormatEscapesJsonStrings() {
        let line = AccessLogFormatter.line(record(routeKey: "GET /a\"b\\c\n\r\t\u{01}\u{1F}é"), format: nil)
        XCTAssertTrue(line.contains(#""routeKey":"GET /a\"b\\c\n\r\t\u0001\u001fé","#), line)
    }

    func testCustomFormatSubstitutesContextVariablesAndDashesForMissingValues() throws {
        let snapshot = try compileSnapshot("""
            listeners:
              - { name: public, port: 8080 }
            settings:
              accessLog:
                enabled: true
                format: '$context.requestId $context.identity.sourceIp [$context.requestTime] "$context.httpMethod $context.path $context.protocol" $context.status $context.responseLength ${context.integrationLatency}ms $context.stage $context.apiId $context.domainName $context.integrationErrorMessage $context.noSuchThing'
            apis:
              - name: shop
                integrations:
                  - { name: p, integrationType: HTTP_PROXY, integrationUri: "http://127.0.0.1:9001" }
                routes:
                  - { routeKey: "ANY /{proxy+}", target: p }
                stages:
                  - stageName: $default
            """)
        let format = try XCTUnwrap(snapshot.config.settings.accessLog.format)
        XCTAssertEqual(
            AccessLogFormatter.line(record(), format: format),
            #"JXkbXhJZIAMEVhQ= 203.0.113.7 [26/Nov/2026:13:42:32 +0000] "GET /prod/pets/7 HTTP/1.1" 200 42 3ms"#
                + " prod shop1 api.example.com - -")
        XCTAssertEqual(
            AccessLogFormatter.line(record(integrationLatencyMs: nil, integrationError: "connect refused"), format: format),
            #"JXkbXhJZIAMEVhQ= 203.0.113.7 [26/Nov/2026:13:42:32 +0000] "GET /prod/pets/7 HTTP/1.1" 200 42 -ms"#
                + " prod shop1 api.example.com connect refused -")
    }

    func testRequestTimeIsCommonLogFormatInUTC() {
        XCTAssertEqual(AccessLogFormatter.clfTime(epochMs: 1_795_700_552_000), "26/Nov/2026:13:42:32 +0000")
        XCTAssertEqual(AccessLogFormatter.clfTime(epochMs: 1_795_700_552_999), "26/Nov/2026:13:42:32 +0000")
        XCTAssertEqual(AccessLogFormatter.clfTime(epochMs: 0), "01/Jan/1970:00:00:00 +0000")
        XCTAssertEqual(AccessLogFormatter.clfTime(epochMs: 946_684_799_000), "31/Dec/1999:23:59:59 +0000")
        XCTAssertEqual(AccessLogFormatter.clfTime(epochMs: 951_782_400_000), "29/Feb/2000:00:00:00 +0000")
    }

    func testRecordValuesUseAwsNames() {
        let r = record()
        XCTAssertEqual(r.value("requestTimeEpoch"), "1795700552000")
        XCTAssertEqual(r.value("extendedRequestId"), "JXkbXhJZIAMEVhQ=")
        XCTAssertEqual(r.value("integration.status"), "200")
        XCTAssertEqual(r.value("integrationErrorMessage"), "-")
    }
}
