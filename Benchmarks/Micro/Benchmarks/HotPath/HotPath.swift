// The request path's pieces, one benchmark each, with wall clock, throughput and malloc
// counts: a change that adds an allocation (or a copy) to the hot path shows up as a
// non-zero mallocCountTotal where there was none. Inputs are built before the measured loop.
import Benchmark
import CTurnpikeShim
import Foundation
import TurnpikeAuth
import TurnpikeCache
import TurnpikeLambda
import TurnpikeRouting
import TurnpikeTraffic

/// This checkout's root (Benchmarks/Micro/Benchmarks/HotPath/HotPath.swift → five levels up),
/// for the committed test-only JWT fixtures.
private let checkoutRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

private let hotPathMetrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: hotPathMetrics, scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 200)

    // MARK: Route matching

    Benchmark("route match: GET /pets/{petId} among 12 routes") { benchmark in
        let table = try RouteTable(routes: [
            "GET /pets", "POST /pets", "GET /pets/{petId}", "PUT /pets/{petId}", "DELETE /pets/{petId}",
            "GET /pets/{petId}/photos/{photoId}", "GET /owners/{ownerId}", "POST /owners",
            "GET /stores/{storeId}/inventory", "ANY /admin/{proxy+}", "ANY /{proxy+}", "$default",
        ].enumerated().map { ($0.element, $0.offset) })
        var captures = table.makeCaptures()
        let method = Array("GET".utf8)
        let path = Array("/pets/12345".utf8)
        benchmark.startMeasurement()
        method.withUnsafeBytes { m in
            path.withUnsafeBytes { p in
                for _ in benchmark.scaledIterations {
                    blackHole(table.match(method: m, path: p, captures: &captures))
                }
            }
        }
    }

    // MARK: HTTP/1.1 parsing (the shim's parser)

    Benchmark("HTTP/1.1 request head parse (9 fields, 420 bytes)") { benchmark in
        let request = Array((
            "GET /v1/pets/12345?include=owner&limit=10 HTTP/1.1\r\n" +
            "Host: api.example.com\r\n" +
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) turnpike-bench\r\n" +
            "Accept: application/json\r\n" +
            "Accept-Encoding: gzip, deflate, br\r\n" +
            "Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.c2lnbmF0dXJl\r\n" +
            "x-api-key: 0123456789abcdef0123456789abcdef\r\n" +
            "x-request-id: 6f1c2a9e-8d4b-4f5e-9a7c-1b2d3e4f5a6b\r\n" +
            "Connection: keep-alive\r\n" +
            "Cookie: session=abcdef0123456789\r\n\r\n").utf8)
        var limits = tp_parse_limits(max_request_line: 8192, max_head_bytes: 32768)
        let head = UnsafeMutablePointer<tp_request_head>.allocate(capacity: 1)
        defer { head.deallocate() }
        var headLen = 0
        var status: UInt16 = 0
        benchmark.startMeasurement()
        request.withUnsafeBufferPointer { buf in
            for _ in benchmark.scaledIterations {
                blackHole(tp_http1_parse_request(buf.baseAddress, buf.count, &limits, head, &headLen, &status))
            }
        }
    }

    // MARK: Throttling

    Benchmark("GCRA admit (one bucket, always admitted)") { benchmark in
        let bucket = try GCRABucket(ThrottleSpec(burstLimit: 1_000_000, rateLimit: 1_000_000_000))
        var now: UInt64 = 1_000_000_000
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            now &+= 1000
            blackHole(bucket.admit(nowNs: now))
        }
    }

    // MARK: JWT verification

    let fixtures = checkoutRoot.appendingPathComponent("Tests/TurnpikeAuthTests/Fixtures")
    let jwt: (authorizer: JWTAuthorizer, now: Int64, tokens: [String: String])? = {
        guard let data = try? Data(contentsOf: fixtures.appendingPathComponent("test-only-tokens.json")),
              let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let issuer = doc["issuer"] as? String, let audience = doc["audience"] as? String,
              let now = (doc["now"] as? NSNumber)?.int64Value, let tokens = doc["tokens"] as? [String: String],
              let authorizer = try? JWTAuthorizer(spec: JWTAuthorizerSpec(
                  name: "bench", issuer: issuer, audiences: [audience],
                  jwksSource: .file(path: fixtures.appendingPathComponent("test-only-jwks.json").path)))
        else { return nil }
        return (authorizer, now, tokens)
    }()

    if let jwt {
        for alg in ["RS256", "ES256", "EdDSA"] {
            guard let token = jwt.tokens["valid_" + alg] else { continue }
            Benchmark("JWT verify uncached (\(alg))", configuration: .init(scalingFactor: .one)) { benchmark in
                let bytes = Array(token.utf8)
                benchmark.startMeasurement()
                bytes.withUnsafeBytes { raw in
                    for _ in benchmark.scaledIterations {
                        blackHole(jwt.authorizer.verify(token: raw, nowSeconds: jwt.now))
                    }
                }
            }
        }
        if let token = jwt.tokens["valid_RS256"] {
            Benchmark("JWT authorize cached (RS256, token cache hit)") { benchmark in
                let bytes = Array(token.utf8)
                var cache = TokenCache()
                bytes.withUnsafeBytes { raw in
                    _ = jwt.authorizer.authorize(token: raw, requiredScopes: [], nowSeconds: jwt.now, cache: &cache)
                    benchmark.startMeasurement()
                    for _ in benchmark.scaledIterations {
                        blackHole(jwt.authorizer.authorize(token: raw, requiredScopes: [], nowSeconds: jwt.now, cache: &cache))
                    }
                }
            }
        }
    }

    // MARK: Response cache

    Benchmark("cache lookup hit (key build + shard lookup)") { benchmark in
        let cache = ResponseCache(capacityBytes: 64 << 20)
        let shape = CacheKeyShape(resourcePath: "/pets/{petId}", parameters: [CacheKeyParameter(.pathParameter, name: "petId")])
        var builder = CacheKeyBuilder()
        let waiter = CacheWaiter(workerIndex: 0, token: 0)
        let id = Array("12345".utf8)
        let method = Array("GET".utf8)
        func key() -> CacheKey {
            method.withUnsafeBytes { builder.begin(method: $0, shape: shape) }
            id.withUnsafeBytes { builder.appendValue($0) }
            return builder.finish()
        }
        let stored = key()
        if case .fill = cache.lookup(stored, nowNs: 0, waiter: waiter) {
            _ = cache.complete(stored, with: CachedResponse(
                key: stored, status: 200, headerBlock: Array("content-type: application/json\r\n".utf8),
                body: Array(#"{"id":12345,"name":"rex"}"#.utf8), storedAtNs: 0, expiresAtNs: .max / 2))
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(cache.lookup(key(), nowNs: 1, waiter: waiter))
        }
    }

    // MARK: Lambda event building and response parsing

    for format in [PayloadFormat.v2, PayloadFormat.v1] {
        Benchmark("Lambda proxy event, payload \(format.rawValue) (8 headers, 2 query parameters, 64-byte body)") { benchmark in
            let request = lambdaRequest()
            let body = Array(repeating: UInt8(ascii: "x"), count: 64)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(ProxyEvent.build(request, body: body, binary: false, format: format))
            }
        }
    }

    Benchmark("Lambda proxy response parse, payload 2.0 (status, 2 headers, cookies, body)") { benchmark in
        let payload = Array(#"{"statusCode":201,"headers":{"content-type":"application/json","x-handler":"pets"},"cookies":["a=1","b=2"],"body":"{\"id\":12345,\"name\":\"rex\"}","isBase64Encoded":false}"#.utf8)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(ProxyResponse.parse(payload, format: .v2))
        }
    }
}

/// A request as a Lambda integration sees it: the fields AWS's events are built from.
private func lambdaRequest() -> ProxyRequest {
    ProxyRequest(
        method: "POST", rawPath: "/prod/pets/12345", path: "/pets/12345", rawQueryString: "include=owner&limit=10",
        headers: [
            ("host", "api.example.com"), ("user-agent", "turnpike-bench"), ("accept", "application/json"),
            ("content-type", "application/json"), ("x-api-key", "0123456789abcdef"), ("x-request-id", "6f1c2a9e"),
            ("cookie", "session=abc; theme=dark"), ("x-forwarded-for", "203.0.113.7"),
        ],
        routeKey: "POST /pets/{petId}", resource: "/pets/{petId}", pathParameters: [("petId", "12345")],
        stageVariables: [("color", "blue")], apiId: "a1b2c3d4e5", stage: "prod", requestId: "JKJaXmPLvHcESHA=",
        epochMs: 1_764_000_000_000, requestTime: "26/Nov/2026:17:00:00 +0000", sourceIp: "203.0.113.7",
        domainName: "api.example.com")
}
