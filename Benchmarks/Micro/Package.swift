// swift-tools-version:6.1
// Micro-benchmarks of the request path (ordo-one/benchmark), kept in their own package so that
// the gateway's builds and tests never build the benchmark framework. Run from this folder:
//   swift package --disable-sandbox benchmark
import Foundation
import PackageDescription

// A path dependency is known by its folder's name: the checkout's, whatever it is called.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent.lowercased()

let package = Package(
    name: "TurnpikeMicroBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "HotPath",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TurnpikeHotPath", package: rootIdentity),
            ],
            path: "Benchmarks/HotPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
