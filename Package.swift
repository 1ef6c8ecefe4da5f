// swift-tools-version:6.1
import PackageDescription

// Release builds of the request path skip dynamic exclusivity checks (a TLS lookup per
// class-property access); the debug build and the tests keep them.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Turnpike",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "turnpike", targets: ["turnpike"]),
        .executable(name: "turnpike-bench", targets: ["turnpike-bench"]),
        // For the micro-benchmark package in Benchmarks/Micro (not used by the gateway itself).
        .library(name: "TurnpikeHotPath", targets: ["CTurnpikeShim", "TurnpikeRouting", "TurnpikeTraffic", "TurnpikeAuth", "TurnpikeCache", "TurnpikeLambda"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // The transport: libuv loops, HTTP/1.1 parsing and writing, the upstream client.
        .target(
            name: "CTurnpikeShim",
            path: "CSupport",
            exclude: [],
            cSettings: [.unsafeFlags(["-O2", "-fno-strict-aliasing"])],
            linkerSettings: [.linkedLibrary("uv"), .linkedLibrary("ssl"), .linkedLibrary("crypto"), .linkedLibrary("nghttp2"), .linkedLibrary("pthread")]
        ),
        // YAML/JSON configuration → validated, immutable model.
        .target(
            name: "TurnpikeConfig",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // Route keys, compiled route tables, API/stage selection by host and path.
        .target(name: "TurnpikeRouting", swiftSettings: hotPath),
        // SQLite (Debian libsqlite3-dev), for durable quota counters.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // JWT authorizers: token parsing, JWKS, signature checks (OpenSSL via the shim), caches.
        .target(
            name: "TurnpikeAuth",
            dependencies: ["CTurnpikeShim", .product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: hotPath
        ),
        // API keys, usage plans, GCRA throttling and durable quotas.
        .target(
            name: "TurnpikeTraffic",
            dependencies: ["CSQLite", .product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: hotPath
        ),
        // The stage response cache: sharded, byte-bounded, TTLs, request coalescing.
        .target(
            name: "TurnpikeCache",
            dependencies: [.product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: hotPath
        ),
        // Lambda proxy integrations without sockets: events 1.0/2.0, response parsing,
        // Runtime API routes, the per-function invocation scheduler, SigV4 signing.
        .target(name: "TurnpikeLambda", dependencies: ["TurnpikeAuth", "CTurnpikeShim"], swiftSettings: hotPath),
        // CORS as HTTP APIs configure it: origin matching, preflight answers, response fields.
        .target(name: "TurnpikeCors", swiftSettings: hotPath),
        // The request pipeline: phases that need no sockets.
        .target(
            name: "TurnpikeGateway",
            dependencies: [
                "TurnpikeConfig", "TurnpikeRouting", "TurnpikeAuth", "TurnpikeTraffic",
                "TurnpikeCache", "TurnpikeCors", "TurnpikeLambda",
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: hotPath
        ),
        // Binds the pipeline to the shim: workers, upstream pools, health checks, admin.
        .target(
            name: "TurnpikeServer",
            dependencies: [
                "CTurnpikeShim", "TurnpikeConfig", "TurnpikeRouting", "TurnpikeGateway", "TurnpikeLambda",
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: hotPath
        ),
        .executableTarget(
            name: "turnpike",
            dependencies: [
                "TurnpikeServer", "TurnpikeConfig", "TurnpikeBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The load generator's transport: HTTP/1.1 and HTTP/2 (nghttp2) clients over libuv and
        // OpenSSL, open- and closed-loop schedules; its ABI is include/turnpike_bench.h.
        .target(
            name: "CTurnpikeBench",
            dependencies: ["CTurnpikeShim"],
            path: "Benchmarks/CBenchClient",
            cSettings: [.unsafeFlags(["-O2", "-fno-strict-aliasing"])],
            linkerSettings: [.linkedLibrary("nghttp2"), .linkedLibrary("uv"), .linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        // The load generator: flags, threads, HDR histograms, the report (`turnpike bench`, `turnpike-bench`).
        .target(
            name: "TurnpikeBench",
            dependencies: [
                "CTurnpikeBench",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/TurnpikeBench"
        ),
        .executableTarget(
            name: "turnpike-bench",
            dependencies: ["TurnpikeBench", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/turnpike-bench"
        ),
        .testTarget(name: "TurnpikeConfigTests", dependencies: ["TurnpikeConfig"]),
        .testTarget(name: "TurnpikeRoutingTests", dependencies: ["TurnpikeRouting"]),
        .testTarget(name: "TurnpikeGatewayTests", dependencies: ["TurnpikeGateway", "TurnpikeConfig", "TurnpikeRouting", "TurnpikeAuth"]),
        .testTarget(name: "ShimParserTests", dependencies: ["CTurnpikeShim"]),
        .testTarget(name: "TurnpikeAuthTests", dependencies: ["TurnpikeAuth"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TurnpikeTrafficTests", dependencies: ["TurnpikeTraffic"]),
        .testTarget(name: "TurnpikeCacheTests", dependencies: ["TurnpikeCache"]),
        .testTarget(name: "TurnpikeLambdaTests", dependencies: ["TurnpikeLambda"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TurnpikeCorsTests", dependencies: ["TurnpikeCors", "TurnpikeRouting"]),
        .testTarget(name: "TurnpikeBenchTests", dependencies: ["TurnpikeBench"]),
    ]
)
