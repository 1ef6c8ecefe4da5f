import XCTest
import TurnpikeConfig
import TurnpikeGateway
import TurnpikeRouting

private let responseConfig = """
    listeners:
      - name: public
        port: 8080
        defaultApi: shop
    targetGroups:
      - name: echo
        endpoints: ["127.0.0.1:9001"]
    apis:
      - name: shop
        apiId: shop1
        integrations:
          - name: mapped
            integrationType: HTTP_PROXY
            integrationUri: http://echo
            responseParameters:
              "200":
                "overwrite:statuscode": "201"
                "overwrite:header.x-powered-by": "turnpike"
                "append:header.x-trace": "gw-$context.stage"
                "remove:header.server": ""
              "404":
                "overwrite:statuscode": "$stageVariables.code"
              "500":
                "overwrite:header.x-pet": "[$request.path.petId]"
        routes:
          - { routeKey: "GET /pets/{petId}", target: mapped }
        stages:
          - stageName: $default
            stageVariables: { code: "abc" }
          - stageName: prod
            stageVariables: { code: "418" }
    """

/// Hands `body` the reason bytes and header fields of an upstream response head.
private func withResponse<R>(
    reason: String, headers: [(String, String)], _ body: (UnsafeRawBufferPointer, UnsafeBufferPointer<HeaderField>) -> R
) -> R {
    withRequest(method: reason, target: "/", headers: headers) { body($0.method, $0.headers) }
}

final class ResponseHeadWriterTests: XCTestCase {
    var snapshot: GatewaySnapshot!

    override func setUpWithError() throws {
        snapshot = try compileSnapshot(responseConfig)
    }

    /// Runs the writer as the server does for a proxied response: mappings for `status`, and a
    /// context whose request is gone (`RequestHead.empty`) but whose captures are the route's.
    private func write(
        status: Int, reason: String, headers: [(String, String)], stage: Int = 0, mapped: Bool = true
    ) -> String {
        let api = snapshot.apis[0]
        let variant = api.stages[stage].main
        let mappings = variant.routes[0].integration.responseParameters[String(status)]
        var captures = variant.routeTable.makeCaptures()
        XCTAssertEqual(variant.routeTable.match(method: "GET", path: "/pets/1234567890", captures: &captures), 0)
        let context = MappingContext(
            request: .empty, routePath: UnsafeRawBufferPointer(start: nil, count: 0), captures: captures,
            api: api, stage: api.stages[stage], routeKey: variant.routes[0].routeKey,
            requestId: fixedRequestId(), requestTimeEpochMs: fixedEpochMs)
        var out: [UInt8] = []
        withResponse(reason: reason, headers: headers) { reason, fields in
            ResponseHeadWriter.write(
                status: status, reason: reason, headers: fields, requestId: fixedRequestId(),
                mappings: mapped ? mappings : nil, context: mapped ? context : nil, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    func testStatusLineEndToEndFieldsAndRequestIdWithoutMappings() {
        XCTAssertEqual(
            write(status: 200, reason: "OK", headers: [("Content-Type", "text/plain"), ("X-App", "1")], mapped: false),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-App: 1\r\napigw-requestid: JXkbXhJZIAMEVhQ=\r\n")
    }

    func testUpstreamReasonPhraseIsKept() {
        XCTAssertEqual(
            write(status: 404, reason: "Nope", headers: [], mapped: false),
            "HTTP/1.1 404 Nope\r\napigw-requestid: JXkbXhJZIAMEVhQ=\r\n")
    }

    func testHopByHopAndFramingFieldsAreNotForwarded() {
        let headers = [
            ("Connection", "keep-alive"), ("Keep-Alive", "timeout=5"), ("Transfer-Encoding", "chunked"),
            ("Content-Length", "12"), ("TE", "trailers"), ("Trailer", "x-sum"), ("Upgrade", "h2c"),
            ("Proxy-Connection", "close"), ("ETag", "\"v1\""),
        ]
        XCTAssertEqual(
            write(status: 200, reason: "OK", headers: headers, mapped: false),
            "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\napigw-requestid: JXkbXhJZIAMEVhQ=\r\n")
    }

    func testResponseMappingsOverwriteStatusAndOverwriteAppendRemoveHeaders() {
        let headers = [
            ("Server", "nginx"), ("X-Powered-By", "express"), ("X-Trace", "up"), ("Content-Type", "application/json"),
        ]
        let text = write(status: 200, reason: "OK", headers: headers)
        // The status line keeps the upstream's reason phrase (see the report: "201 OK").
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 201 "), text)
        XCTAssertEqual(
            text.drop { $0 != "\r\n" },
            "\r\nX-Trace: up\r\nContent-Type: application/json\r\nx-powered-by: turnpike\r\nx-trace: gw-$default\r\n"
                + "apigw-requestid: JXkbXhJZIAMEVhQ=\r\n")
    }

    func testStatusMappingFromStageVariableApplies() {
        XCTAssertEqual(
            write(status: 404, reason: "Not Found", headers: [], stage: 1).prefix(13), "HTTP/1.1 418 ")
    }

    func testStatusMappingToNonNumberKeepsUpstreamStatus() {
        XCTAssertEqual(
            write(status: 404, reason: "Not Found", headers: [], stage: 0),
            "HTTP/1.1 404 Not Found\r\napigw-requestid: JXkbXhJZIAMEVhQ=\r\n")
    }

    func testMappingsForOtherStatusesDoNotApply() {
        XCTAssertEqual(
            write(status: 204, reason: "No Content", headers: [("Server", "nginx")]),
            "HTTP/1.1 204 No Content\r\nServer: nginx\r\napigw-requestid: JXkbXhJZIAMEVhQ=\r\n")
    }

    func testRequestPathParameterInResponseMappingIsEmptyOnceTheRequestIsGone() {
        // The captures point into a path the response context no longer holds: no value, no crash.
        XCTAssertEqual(
            write(status: 500, reason: "Internal Server Error", headers: []),
            "HTTP/1.1 500 Internal Server Error\r\nx-pet: []\r\napigw-requestid: JXkbXhJZIAMEVhQ=\r\n")
    }
}
